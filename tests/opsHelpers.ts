// Test clients for the operator-facing endpoints: grpc.health.v1 and the
// Prometheus listener. Plain grpc-js and fetch, as a probe or scraper would use.
import { Client, type ClientReadableStream, credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import type { HealthCheckResponse__Output } from "../client-sdk/src/generated/grpc/health/v1/HealthCheckResponse.js";
import type { HealthListResponse__Output } from "../client-sdk/src/generated/grpc/health/v1/HealthListResponse.js";
import { healthService } from "../server/rpc/serviceDefinitions.js";

export interface HealthClient {
  check(service?: string): Promise<string>;
  list(): Promise<Record<string, string>>;
  /** Opens a Watch; `next()` resolves with each status message in turn, and with undefined once the call ends OK. */
  watch(service?: string): { next(): Promise<string | undefined>; cancel(): void };
  close(): void;
}

function method(name: string) {
  const m = healthService[name];
  if (!m) throw new Error(`no method ${name}`);
  return m;
}

export function healthClient(address: string): HealthClient {
  const client = new Client(address, credentials.createInsecure());
  const unary = <Res>(name: string, req: unknown) =>
    new Promise<Res>((res, rej) => {
      const m = method(name);
      client.makeUnaryRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize as (b: Buffer) => Res,
        req,
        new Metadata(),
        { deadline: Date.now() + 10_000 },
        (err: ServiceError | null, value?: Res) => (err ? rej(err) : res(value as Res)),
      );
    });
  return {
    async check(service = "") {
      return (await unary<HealthCheckResponse__Output>("Check", { service })).status;
    },
    async list() {
      const res = await unary<HealthListResponse__Output>("List", {});
      return Object.fromEntries(Object.entries(res.statuses).map(([k, v]) => [k, v.status]));
    },
    watch(service = "") {
      const m = method("Watch");
      const call = client.makeServerStreamRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        { service },
        new Metadata(),
      ) as ClientReadableStream<HealthCheckResponse__Output>;
      const it = call[Symbol.asyncIterator]() as AsyncIterator<HealthCheckResponse__Output>;
      return {
        async next() {
          const r = await it.next();
          return r.done ? undefined : r.value.status;
        },
        cancel: () => call.cancel(),
      };
    },
    close: () => client.close(),
  };
}

/** One sample of a scrape: metric name with its labels in exposition order, e.g. `x_total{tenant="a"}`. */
export type Samples = Map<string, number>;

/** GETs /metrics and parses the text exposition into samples (comments skipped). */
export async function scrape(metricsAddress: string): Promise<Samples> {
  const res = await fetch(`http://${metricsAddress}/metrics`);
  if (res.status !== 200) throw new Error(`scrape answered ${res.status}`);
  const samples: Samples = new Map();
  for (const line of (await res.text()).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    samples.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return samples;
}

/** A sample's value, 0 when the series does not exist yet. */
export function sample(samples: Samples, series: string): number {
  return samples.get(series) ?? 0;
}
