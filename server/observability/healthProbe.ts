// A container health check: one grpc.health.v1 Check against this process's
// server, exit 0 when SERVING and 1 otherwise (Docker's HEALTHCHECK contract).
//
//   node dist/server/observability/healthProbe.js [host:port] [service]
//
// Without an address it dials STREAMGATE_LISTEN (a wildcard host becomes
// loopback). It carries no credentials: the health service needs none.
import { Client, credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import type { HealthCheckResponse__Output } from "../../client-sdk/src/generated/grpc/health/v1/HealthCheckResponse.js";
import { joinHostPort, splitHostPort } from "../config/hostPort.js";
import { ConfigError, loadConfig } from "../config/loadConfig.js";
import { healthService } from "../rpc/serviceDefinitions.js";

const DEADLINE_MS = 3000;

function defaultAddress(): string {
  const [host, port] = splitHostPort(loadConfig().listen);
  const dialable = host === "0.0.0.0" ? "127.0.0.1" : host === "::" || host === "[::]" ? "::1" : host;
  return joinHostPort(dialable, port);
}

function check(address: string, service: string): Promise<HealthCheckResponse__Output> {
  const method = healthService.Check;
  if (!method) throw new Error("grpc.health.v1.Health/Check is missing from the service definition");
  const client = new Client(address, credentials.createInsecure());
  return new Promise<HealthCheckResponse__Output>((res, rej) => {
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize as (b: Buffer) => HealthCheckResponse__Output,
      { service },
      new Metadata(),
      { deadline: Date.now() + DEADLINE_MS },
      (err: ServiceError | null, value?: HealthCheckResponse__Output) => (err || !value ? rej(err) : res(value)),
    );
  }).finally(() => client.close());
}

async function probe(): Promise<number> {
  const service = process.argv[3] ?? "";
  let address: string;
  try {
    address = process.argv[2] ?? defaultAddress();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`health probe: invalid configuration: ${err.message}\n`);
    return 1;
  }
  try {
    const { status } = await check(address, service);
    process.stdout.write(`${address}: ${status}\n`);
    return status === "SERVING" ? 0 : 1;
  } catch (err) {
    process.stderr.write(`${address}: health check failed: ${(err as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await probe();
