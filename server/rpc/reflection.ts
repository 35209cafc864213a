import type { Server } from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { packageDefinition } from "./serviceDefinitions.js";

/**
 * Adds gRPC server reflection (grpc.reflection.v1 and v1alpha) describing every
 * service in our protos, for grpcurl and similar tools. Off unless
 * STREAMGATE_REFLECTION is set: it tells anyone who can connect what the API is.
 */
export function addReflection(server: Server): void {
  // @grpc/reflection types its argument with its own copy of @grpc/proto-loader; the shape is the same.
  new ReflectionService(packageDefinition as ConstructorParameters<typeof ReflectionService>[0]).addToServer(server);
}
