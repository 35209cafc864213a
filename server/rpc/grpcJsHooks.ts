// The places where Streamgate reaches into grpc-js (pinned at 1.14.7), each
// because grpc-js answers a caller's mistake as a server failure, or silently,
// before any interceptor or handler can see it. One home, installed once per
// process; tests/hostile and tests/malformedRequests.test.ts fail if a grpc-js
// upgrade moves what they hook.
// - Metadata.fromHttp2Headers, which builds every call's metadata from the raw
//   headers: text entries grpc-js drops are marked (invalidMetadata.ts), and a
//   malformed or overlong grpc-timeout is taken out (malformedTimeouts.ts); the
//   refusing happens in the caller resolver and the refuseMalformedRequests
//   interceptor.
// - BaseServerInterceptingCall.decompressMessage: a body that does not
//   decompress (grpc-encoding gzip or deflate with bytes that are not) is answered
//   INVALID_ARGUMENT instead of grpc-js's INTERNAL "Failed to decompress message".
import { createRequire } from "node:module";
import { Metadata, status } from "@grpc/grpc-js";
import { type Headers, markDroppedEntries } from "./invalidMetadata.js";
import { markMalformedTimeout } from "./malformedTimeouts.js";

let installed = false;

/** Installs the hooks (once per process). */
export function installGrpcJsHooks(): void {
  if (installed) return;
  installed = true;
  const parse = Metadata.fromHttp2Headers.bind(Metadata);
  Metadata.fromHttp2Headers = (headers: Headers) => {
    const metadata = parse(headers);
    markDroppedEntries(headers, metadata);
    markMalformedTimeout(metadata);
    return metadata;
  };
  hookDecompression();
}

interface Rejection {
  code?: number;
  details?: string;
}

/** grpc-js's server call class is internal (not exported from the package's index): reached by path. */
function hookDecompression(): void {
  const require = createRequire(import.meta.url);
  const internals = require("@grpc/grpc-js/build/src/server-interceptors.js") as {
    BaseServerInterceptingCall?: { prototype: { decompressMessage?: (message: Buffer, encoding: string) => unknown } };
  };
  const proto = internals.BaseServerInterceptingCall?.prototype;
  const original = proto?.decompressMessage;
  if (!proto || !original) throw new Error("grpc-js changed: BaseServerInterceptingCall.decompressMessage not found (see grpcJsHooks.ts)");
  proto.decompressMessage = function (this: unknown, message: Buffer, encoding: string) {
    return Promise.resolve(original.call(this, message, encoding)).catch((err: Rejection) => {
      if (err?.code !== status.INTERNAL) throw err;
      throw {
        code: status.INVALID_ARGUMENT,
        details: `request body is not valid ${encoding} data (grpc-encoding ${encoding}): send it compressed as the header says, or without compression`,
      };
    });
  };
}
