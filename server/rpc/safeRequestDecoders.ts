// Every method's request decoder, made safe to hand to grpc-js: a body that
// does not decode becomes a MalformedRequest (answered INVALID_ARGUMENT by the
// refuseMalformedRequests interceptor) instead of an exception, which grpc-js
// would answer with INTERNAL.
import type { ServiceDefinition } from "@grpc/grpc-js";
import { MalformedRequest } from "./malformedRequest.js";
import { requestTypeName } from "./protoTypes.js";
import { wireFormatProblem } from "./wireFormatProblem.js";

/** Decodes one request body; may throw on malformed input (the wrapper catches it). */
export type RequestDecoder = (body: Buffer) => unknown;

/**
 * `def` (service `serviceName`, e.g. "streamgate.v1.Streamgate") with every method's
 * `requestDeserialize` replaced by one that never throws: it returns the decoded request, or a
 * {@link MalformedRequest} naming what is wrong. Methods in `handDecoders` use that decoder
 * (which must refuse malformed input itself, by throwing); the others keep proto-loader's,
 * after a strict check of the bytes (see wireFormatProblem.ts for what protobufjs would let through).
 */
export function withSafeRequestDecoders(
  serviceName: string,
  def: ServiceDefinition,
  handDecoders: Record<string, RequestDecoder> = {},
): ServiceDefinition {
  const out: Record<string, ServiceDefinition[string]> = {};
  for (const [name, method] of Object.entries(def)) {
    const typeName = requestTypeName(serviceName, name);
    const generic = method.requestDeserialize as RequestDecoder;
    const decode = handDecoders[name] ?? checked(typeName, generic);
    out[name] = { ...method, requestDeserialize: safe(typeName, decode) };
  }
  for (const name of Object.keys(handDecoders)) if (!def[name]) throw new Error(`${serviceName} has no method ${name}`);
  return out as ServiceDefinition;
}

function checked(typeName: string, decode: RequestDecoder): RequestDecoder {
  return (body) => {
    const problem = wireFormatProblem(body, typeName);
    return problem === undefined ? decode(body) : new MalformedRequest(typeName, problem);
  };
}

function safe(typeName: string, decode: RequestDecoder): RequestDecoder {
  return (body) => {
    try {
      return decode(body);
    } catch (err) {
      // The wire check names the field and the numbers, the same words for every method; the
      // decoder's own message is the fallback for a problem the check does not look for.
      let problem: string | undefined;
      try {
        problem = wireFormatProblem(body, typeName);
      } catch {}
      return new MalformedRequest(typeName, problem ?? (err instanceof Error ? err.message : String(err)));
    }
  };
}
