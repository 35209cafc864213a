// One log line per RPC, at completion: method, status code, duration,
// correlation id and tenant. Also counts the RPC by status for the metrics.
// It is a grpc-js server interceptor, so handlers stay free of logging code.
import { randomUUID } from "node:crypto";
import { status as grpcStatus, Metadata, ServerInterceptingCall, type ServerInterceptor } from "@grpc/grpc-js";
import type { Caller, ResolveCaller } from "../tenancy/caller.js";
import type { Logger } from "./logger.js";
import { countRpc } from "./metrics.js";

/** Request and response header carrying the correlation id; generated when a call comes without a usable one. */
export const CORRELATION_ID_HEADER = "x-correlation-id";
const USABLE_CORRELATION_ID = /^[A-Za-z0-9._:/+=-]{1,128}$/;

/** Metadata headers whose values are credentials: never logged, and scrubbed from logged error messages. */
const SECRET_HEADERS = ["authorization", "x-api-key"];

// Which caller each call's metadata resolved to, so the completion line can name the tenant.
const callers = new WeakMap<Metadata, Caller>();
// Each call's identity on its request line, keyed by the metadata its handler sees, for callLog().
const calls = new WeakMap<Metadata, { method: string; correlationId: string }>();

/**
 * The logger for lines about one call (e.g. the cause of an INTERNAL error): `log` with the
 * `correlationId`, `method` and, once the caller is authenticated, `tenant` that the call's
 * request line carries, so the two can be joined. `log` itself for metadata the request-log
 * interceptor has not seen (a handler run without it).
 */
export function callLog(log: Logger, metadata: Metadata | undefined): Logger {
  const call = metadata && calls.get(metadata);
  if (!call || !metadata) return log;
  const tenant = callers.get(metadata)?.tenantId;
  return log.child(tenant === undefined ? { ...call } : { ...call, tenant });
}

/** Wraps a caller resolver so the request log learns each call's tenant; behaves exactly like `resolve`. */
export function rememberingCaller(resolve: ResolveCaller): ResolveCaller {
  return async (metadata) => {
    const caller = await resolve(metadata);
    callers.set(metadata, caller);
    return caller;
  };
}

export interface RequestLogOptions {
  /** Services whose calls are logged at debug level (e.g. health probes every few seconds). */
  quietServices?: readonly string[];
}

/** A server interceptor that logs and counts every RPC once it completes. */
export function requestLogInterceptor(log: Logger, { quietServices = [] }: RequestLogOptions = {}): ServerInterceptor {
  return (method, call) => {
    const started = process.hrtime.bigint();
    // Read now: once a client has gone (a cancelled stream), grpc-js no longer knows its address.
    const peer = call.getPeer();
    const service = method.path.split("/")[1] ?? "";
    const quiet = quietServices.includes(service);
    let metadata: Metadata | undefined;
    let correlationId: string = randomUUID();
    let headersSent = false;
    let finished = false;

    const finish = (code: grpcStatus, details: string | undefined) => {
      if (finished) return;
      finished = true;
      countRpc(method.path, code);
      const line: Record<string, unknown> = {
        method: method.path,
        code: grpcStatus[code] ?? code,
        durationMs: Number(process.hrtime.bigint() - started) / 1e6,
        correlationId,
        tenant: metadata ? callers.get(metadata)?.tenantId : undefined,
        peer,
      };
      if (code !== grpcStatus.OK && details) line.message = scrubSecrets(details, metadata);
      const serverFault = code === grpcStatus.INTERNAL || code === grpcStatus.UNKNOWN || code === grpcStatus.DATA_LOSS;
      if (serverFault) log.error(line, "rpc");
      else if (quiet) log.debug(line, "rpc");
      else log.info(line, "rpc");
    };

    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(md, nextMd) {
            metadata = md;
            const given = md.get(CORRELATION_ID_HEADER)[0];
            if (typeof given === "string" && USABLE_CORRELATION_ID.test(given)) correlationId = given;
            else md.set(CORRELATION_ID_HEADER, correlationId); // handlers see the id that gets logged
            calls.set(md, { method: method.path, correlationId });
            nextMd(md);
          },
          onCancel() {
            // grpc-js ends a call whose deadline passed itself, without a status passing through here.
            const deadline = call.getDeadline();
            const expired = deadline !== Infinity && new Date(deadline).getTime() <= Date.now();
            finish(expired ? grpcStatus.DEADLINE_EXCEEDED : grpcStatus.CANCELLED, undefined);
          },
        });
      },
      sendMetadata(md, next) {
        headersSent = true;
        md.set(CORRELATION_ID_HEADER, correlationId);
        next(md);
      },
      sendStatus(st, next) {
        finish(st.code, st.details);
        if (!headersSent) {
          // Trailers-only response (e.g. an early error): the id goes with the status.
          const md = st.metadata ?? new Metadata();
          md.set(CORRELATION_ID_HEADER, correlationId);
          next({ ...st, metadata: md });
          return;
        }
        next(st);
      },
    });
  };
}

/** Removes any credential the caller sent from `text` (an error message may quote what it rejected). */
function scrubSecrets(text: string, metadata: Metadata | undefined): string {
  if (!metadata) return text;
  let out = text;
  for (const header of SECRET_HEADERS) {
    for (const value of metadata.get(header)) {
      if (typeof value !== "string") continue;
      for (const secret of [value, value.replace(/^\s*bearer\s+/i, "")]) {
        if (secret.trim().length >= 4) out = out.split(secret).join("[redacted]");
      }
    }
  }
  return out;
}
