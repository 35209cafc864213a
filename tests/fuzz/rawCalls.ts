// Calls that send bytes exactly as given: grpc-js clients with identity
// serializers (any body for any method, streaming ones included), and bare
// HTTP/2 requests for what a grpc-js client never sends (a bad grpc-timeout,
// a compressed flag without an encoding, a body that is not gzip).
import http2 from "node:http2";
import { Client, credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { requestTypeName } from "../../server/rpc/protoTypes.js";
import {
  adminService,
  consumerGroupsService,
  healthService,
  kumihoService,
  streamgateService,
} from "../../server/rpc/serviceDefinitions.js";

/** One RPC of our services, as a test drives it. */
export interface Method {
  /** "/streamgate.v1.Streamgate/Publish" */
  path: string;
  /** "streamgate.v1.Streamgate" */
  service: string;
  name: string;
  /** Full name of the request message. */
  requestType: string;
  requestStream: boolean;
  responseStream: boolean;
}

const services = {
  "kumiho.KumihoService": kumihoService,
  "streamgate.v1.Streamgate": streamgateService,
  "streamgate.v1.ConsumerGroups": consumerGroupsService,
  "streamgate.v1.Admin": adminService,
  "grpc.health.v1.Health": healthService,
};

/** Every method the server serves (reflection aside, which is off by default). */
export const METHODS: readonly Method[] = Object.entries(services).flatMap(([service, def]) =>
  Object.entries(def).map(([name, m]) => ({
    path: m.path,
    service,
    name,
    requestType: requestTypeName(service, name),
    requestStream: m.requestStream,
    responseStream: m.responseStream,
  })),
);

/** The method called `service/name`. */
export function method(path: string): Method {
  const found = METHODS.find((m) => m.path === `/${path}`);
  if (!found) throw new Error(`no method ${path}`);
  return found;
}

/** How a call ended: its status, or `{ code: OK, details: "open" }` for a stream the server opened. */
export interface Outcome {
  code: status;
  details: string;
}

export interface CallOptions {
  metadata?: Metadata;
  /** Every call has one: a call the server leaves hanging ends DEADLINE_EXCEEDED. */
  deadlineMs?: number;
}

const identity = (b: Buffer) => b;

/** A grpc-js client for raw calls to `address` (no service: paths are given per call). */
export function rawClient(address: string): Client {
  return new Client(address, credentials.createInsecure());
}

/**
 * Calls `m` with `messages` as the raw request bodies (a unary or server-streaming method takes
 * the first); resolves with how it ended, never rejects. A server stream counts as open once the
 * server sends headers or a message and no error follows within 30 ms; it is then cancelled.
 * A client stream is half-closed after the last message.
 */
export function callRaw(client: Client, m: Method, messages: readonly Buffer[], opts: CallOptions = {}): Promise<Outcome> {
  const metadata = opts.metadata ?? new Metadata();
  const options = { deadline: Date.now() + (opts.deadlineMs ?? 5000) };
  return new Promise<Outcome>((resolve) => {
    let settled = false;
    const done = (o: Outcome) => {
      if (settled) return;
      settled = true;
      resolve(o);
    };
    const fromError = (err: ServiceError) => done({ code: err.code, details: err.details });
    if (!m.requestStream && !m.responseStream) {
      client.makeUnaryRequest(m.path, identity, identity, messages[0] ?? Buffer.alloc(0), metadata, options, (err) =>
        err ? fromError(err) : done({ code: status.OK, details: "" }),
      );
      return;
    }
    const call = m.requestStream
      ? client.makeBidiStreamRequest(m.path, identity, identity, metadata, options)
      : client.makeServerStreamRequest(m.path, identity, identity, messages[0] ?? Buffer.alloc(0), metadata, options);
    let opened: NodeJS.Timeout | undefined;
    const open = () => {
      opened ??= setTimeout(() => {
        done({ code: status.OK, details: "open" });
        call.cancel();
      }, 30);
    };
    call.on("metadata", open);
    call.on("data", open);
    call.on("error", (err: ServiceError) => {
      clearTimeout(opened);
      fromError(err);
    });
    call.on("status", (s: { code: status; details: string }) => {
      if (s.code === status.OK) {
        clearTimeout(opened);
        done({ code: status.OK, details: s.details });
      }
    });
    if (m.requestStream) {
      const duplex = call as unknown as { write(b: Buffer): void; end(): void };
      for (const msg of messages) duplex.write(msg);
      duplex.end();
    }
  });
}

/** One gRPC message frame: the compressed flag, the length, the bytes. */
export function frame(body: Buffer, compressed = false): Buffer {
  const head = Buffer.alloc(5);
  head[0] = compressed ? 1 : 0;
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** A bare HTTP/2 connection for requests a grpc-js client would not send. */
export interface RawSession {
  /**
   * Sends `frames` on `path` with extra request `headers`; resolves with the gRPC status, or, for a
   * server stream (`stream`), with `{ code: OK, details: "open" }` once the server answered with
   * headers and no status followed within 30 ms (the stream is then cancelled). Rejects when
   * the request cannot be sent (a header value HTTP/2 refuses) or nothing answers within 5 s.
   */
  request(path: string, frames: Buffer, headers?: Record<string, string>, stream?: boolean): Promise<Outcome>;
  /** Whether the connection is still up (not closed or destroyed by the server). */
  alive(): boolean;
  close(): void;
}

export function rawSession(address: string): RawSession {
  const session = http2.connect(`http://${address}`);
  session.on("error", () => {}); // a broken connection shows as a failed request and alive() false
  return {
    request(path, frames, headers = {}, stream = false) {
      return new Promise<Outcome>((resolve, reject) => {
        const req = session.request({
          ":method": "POST",
          ":path": path,
          "content-type": "application/grpc",
          te: "trailers",
          ...headers,
        });
        let head: http2.IncomingHttpHeaders = {};
        let opened: NodeJS.Timeout | undefined;
        const timer = setTimeout(() => {
          req.close(http2.constants.NGHTTP2_CANCEL);
          reject(new Error(`no answer on ${path} within 5 s`));
        }, 5000);
        const finish = (h: http2.IncomingHttpHeaders) => {
          clearTimeout(timer);
          clearTimeout(opened);
          const code = h["grpc-status"] ?? head["grpc-status"];
          const message = h["grpc-message"] ?? head["grpc-message"];
          if (code === undefined) reject(new Error(`no grpc-status from ${path} (HTTP ${String(head[":status"])})`));
          else resolve({ code: Number(code), details: decodeURIComponent(String(message ?? "")) });
        };
        req.on("response", (h) => {
          head = h;
          if (stream && h["grpc-status"] === undefined)
            opened = setTimeout(() => {
              clearTimeout(timer);
              resolve({ code: status.OK, details: "open" });
              req.close(http2.constants.NGHTTP2_CANCEL);
            }, 30);
        });
        req.on("trailers", finish);
        req.on("data", () => {});
        req.on("end", () => finish({}));
        req.on("error", (err) => {
          clearTimeout(timer);
          clearTimeout(opened);
          reject(err);
        });
        req.end(frames);
      });
    },
    alive: () => !session.closed && !session.destroyed,
    close: () => session.close(),
  };
}
