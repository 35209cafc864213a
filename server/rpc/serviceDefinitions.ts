import { type GrpcObject, loadPackageDefinition, type ServiceDefinition } from "@grpc/grpc-js";
import { fromJSON } from "@grpc/proto-loader";
import { descriptor } from "../../client-sdk/src/generated/descriptor.js";
import { decodePublishBatchRequest, decodePublishRequest } from "../events/decodePublish.js";
import { type RequestDecoder, withSafeRequestDecoders } from "./safeRequestDecoders.js";

/** Every message and service of our protos (also what server reflection describes). */
export const packageDefinition = fromJSON(descriptor, {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const grpcObject = loadPackageDefinition(packageDefinition);

/**
 * The service `path`, every method's request decoder wrapped so a malformed body becomes a
 * MalformedRequest, answered INVALID_ARGUMENT by the refuseMalformedRequests interceptor, not an
 * exception grpc-js would answer with INTERNAL. `handDecoders` replace proto-loader's for those methods.
 */
function service(path: string, handDecoders: Record<string, RequestDecoder> = {}): ServiceDefinition {
  let node: unknown = grpcObject;
  for (const part of path.split(".")) node = (node as GrpcObject)[part];
  return withSafeRequestDecoders(path, (node as { service: ServiceDefinition }).service, handDecoders);
}

/**
 * Streaming methods write events the fan-out has already encoded; their
 * serializer passes Buffers through untouched instead of re-encoding.
 */
function withPreEncoded(def: ServiceDefinition, methods: string[]): ServiceDefinition {
  const out: Record<string, ServiceDefinition[string]> = { ...def };
  for (const name of methods) {
    const method = def[name];
    if (!method) throw new Error(`unknown method ${name}`);
    const encode = method.responseSerialize;
    out[name] = { ...method, responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : encode(value)) };
  }
  return out as ServiceDefinition;
}

/** Publish requests are decoded by hand (events/decodePublish.ts), the publish path's hot spot. */
const publishDecoders = { Publish: decodePublishRequest, PublishBatch: decodePublishBatchRequest };

export const kumihoService = withPreEncoded(service("kumiho.KumihoService"), ["EventStream"]);
export const streamgateService = withPreEncoded(service("streamgate.v1.Streamgate", publishDecoders), ["Subscribe"]);
export const consumerGroupsService = withPreEncoded(service("streamgate.v1.ConsumerGroups"), ["Consume"]);
export const healthService = service("grpc.health.v1.Health");
export const adminService = service("streamgate.v1.Admin");
