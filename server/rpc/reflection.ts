import type { Server, ServiceDefinition, UntypedServiceImplementation } from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { MalformedRequest } from "./malformedRequest.js";
import { packageDefinition } from "./serviceDefinitions.js";

/**
 * Adds gRPC server reflection (grpc.reflection.v1 and v1alpha) describing every
 * service in our protos, for grpcurl and similar tools. Off unless
 * STREAMGATE_REFLECTION is set: it tells anyone who can connect what the API is.
 * Its request decoders, like ours, never throw into grpc-js (which would answer
 * INTERNAL): a body that does not decode is refused with INVALID_ARGUMENT.
 */
export function addReflection(server: Server): void {
  const tolerant = {
    addService: (def: ServiceDefinition, impl: UntypedServiceImplementation) => server.addService(neverThrowing(def), impl),
  } as unknown as Server;
  // @grpc/reflection types its argument with its own copy of @grpc/proto-loader; the shape is the same.
  new ReflectionService(packageDefinition as ConstructorParameters<typeof ReflectionService>[0]).addToServer(tolerant);
}

function neverThrowing(def: ServiceDefinition): ServiceDefinition {
  const out: Record<string, ServiceDefinition[string]> = {};
  for (const [name, method] of Object.entries(def)) {
    const decode = method.requestDeserialize;
    out[name] = {
      ...method,
      requestDeserialize: (body: Buffer) => {
        try {
          return decode(body);
        } catch (err) {
          return new MalformedRequest(`${method.path} request`, (err as Error).message);
        }
      },
    };
  }
  return out as ServiceDefinition;
}
