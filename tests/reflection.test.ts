import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import {
  Client,
  type ClientDuplexStream,
  credentials,
  type GrpcObject,
  loadPackageDefinition,
  type ServiceClientConstructor,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers.js";

// The reflection protocol's own .proto, as shipped by @grpc/reflection: what grpcurl speaks.
const require = createRequire(import.meta.url);
const reflectionProto = join(dirname(require.resolve("@grpc/reflection")), "..", "proto/grpc/reflection/v1/reflection.proto");
const pkg = loadPackageDefinition(loadSync(reflectionProto, { keepCase: true, defaults: true, oneofs: true })) as GrpcObject;
const ReflectionClient = ((pkg.grpc as GrpcObject).reflection as GrpcObject).v1 as GrpcObject;

interface ReflectionResponse {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

/** One request on a fresh ServerReflectionInfo stream; resolves with the first response. */
function ask(address: string, request: Record<string, string>): Promise<ReflectionResponse> {
  const Ctor = ReflectionClient.ServerReflection as ServiceClientConstructor;
  const client = new Ctor(address, credentials.createInsecure());
  return new Promise<ReflectionResponse>((res, rej) => {
    const call = (client as unknown as { ServerReflectionInfo(): ClientDuplexStream<unknown, ReflectionResponse> }).ServerReflectionInfo();
    call.on("data", (r: ReflectionResponse) => {
      res(r);
      call.end();
    });
    call.on("error", rej);
    call.write(request);
  }).finally(() => client.close());
}

describe("server reflection", () => {
  let on: TestServer;
  let off: TestServer;
  beforeAll(async () => {
    on = await startTestServer({ reflection: true });
    off = await startTestServer();
  });
  afterAll(async () => {
    await on.close();
    await off.close();
  });

  it("lists every service and describes them when STREAMGATE_REFLECTION is on", async () => {
    const listed = await ask(on.app.address, { list_services: "" });
    const names = listed.list_services_response?.service.map((s) => s.name) ?? [];
    expect(names).toEqual(expect.arrayContaining(["kumiho.KumihoService", "streamgate.v1.Streamgate", "grpc.health.v1.Health"]));
    const described = await ask(on.app.address, { file_containing_symbol: "streamgate.v1.Streamgate" });
    expect(described.file_descriptor_response?.file_descriptor_proto.length).toBeGreaterThan(0);
  });

  it("refuses a request body that does not decode with INVALID_ARGUMENT, not INTERNAL", async () => {
    const client = new Client(on.app.address, credentials.createInsecure());
    try {
      const identity = (b: Buffer) => b;
      const call = client.makeBidiStreamRequest("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", identity, identity);
      const ended = new Promise<ServiceError | "data">((resolve) => {
        call.on("data", () => resolve("data"));
        call.on("error", resolve);
      });
      // An unknown field (15) with wire type 7, which does not exist: protobufjs throws on it.
      call.write(Buffer.from([0x7f, 0x00]));
      const err = await ended;
      expect(err).not.toBe("data");
      expect((err as ServiceError).code).toBe(status.INVALID_ARGUMENT);
      expect((err as ServiceError).details).toMatch(
        /^request body is not a valid \/grpc\.reflection\.v1\.ServerReflection\/ServerReflectionInfo request/,
      );
    } finally {
      client.close();
    }
  });

  it("is not served by default", async () => {
    await expect(ask(off.app.address, { list_services: "" })).rejects.toMatchObject({ code: status.UNIMPLEMENTED });
  });
});
