// Answers a request that grpc-js would otherwise answer with INTERNAL, though
// the fault is the caller's, with INVALID_ARGUMENT, in one place for every
// method (the handlers never see such a request):
// - a request message that did not decode (a MalformedRequest from
//   safeRequestDecoders.ts: grpc-js answers a throwing decoder with INTERNAL);
// - a malformed grpc-timeout header (marked by malformedTimeouts.ts: grpc-js
//   answers it with INTERNAL).
// A grpc-js server interceptor, because a decoder has no other way to fail a call.
import { ServerInterceptingCall, type ServerInterceptor, status } from "@grpc/grpc-js";
import { MalformedRequest } from "./malformedRequest.js";
import { malformedTimeout } from "./malformedTimeouts.js";

/**
 * A server interceptor that ends a call with INVALID_ARGUMENT when its grpc-timeout is malformed
 * ("grpc-timeout \"abc\" is not a timeout: ...") or a request message is a {@link MalformedRequest}
 * ("request body is not a valid <type>: <what>"), instead of passing it on: a unary or
 * server-streaming handler never starts, a client- or bidi-streaming handler (Consume) sees its
 * call cancelled. Everything else passes through untouched. It relies on grpcJsHooks.ts, installed
 * by the server, to mark malformed grpc-timeouts.
 *
 * Register it after requestLogInterceptor (`interceptors: [requestLogInterceptor(...),
 * refuseMalformedRequests()]`): grpc-js wraps later interceptors around earlier ones, so the
 * status then goes through the request log, which logs and counts it as INVALID_ARGUMENT.
 */
export function refuseMalformedRequests(): ServerInterceptor {
  return (_method, call) => {
    let refused = false;
    const intercepting: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start(next) {
        const refuse = (details: string) => {
          refused = true;
          // Through this call, not `call`, so a response message still being sent goes out first.
          intercepting.sendStatus({ code: status.INVALID_ARGUMENT, details });
        };
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            const badTimeout = malformedTimeout(metadata);
            if (badTimeout) return refuse(badTimeout);
            nextMetadata(metadata);
          },
          onReceiveMessage(message, nextMessage) {
            if (refused) return;
            if (message instanceof MalformedRequest) return refuse(message.details);
            nextMessage(message);
          },
          onReceiveHalfClose(nextHalfClose) {
            // A unary handler that never got its message would answer "no request message" (UNIMPLEMENTED).
            if (!refused) nextHalfClose();
          },
        });
      },
    });
    return intercepting;
  };
}
