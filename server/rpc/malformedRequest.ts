// What a request decoder hands grpc-js instead of throwing. grpc-js answers a
// throwing decoder with INTERNAL "Error deserializing request"
// (server-interceptors.ts, decompressAndMaybePush), which tells the caller the
// server is at fault; a malformed body is the caller's mistake. The decoders
// (safeRequestDecoders.ts) return this marker and the refuseMalformedRequests
// interceptor answers it with INVALID_ARGUMENT before any handler runs.

/** A request body that is not a valid message of its type; `problem` says what is wrong with it. */
export class MalformedRequest {
  constructor(
    /** The message type the body was decoded as ("streamgate.v1.PublishRequest"). */
    readonly typeName: string,
    /** What is wrong, e.g. "field routing_key: length 2147483648 runs past the end of its message (3 bytes left)". */
    readonly problem: string,
  ) {}

  /** The INVALID_ARGUMENT status details: "request body is not a valid <type>: <problem>". */
  get details(): string {
    return `request body is not a valid ${this.typeName}: ${this.problem}`;
  }
}
