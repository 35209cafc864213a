import { Writable } from "node:stream";
import { Client, credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../client-sdk/src/index.js";
import { type Streamgate, startStreamgate } from "../server/app.js";
import { loadConfig } from "../server/config/loadConfig.js";
import { StreamgateError } from "../server/errors.js";
import { createLogger } from "../server/observability/logger.js";
import { kumihoService } from "../server/rpc/serviceDefinitions.js";
import { type ResolveCaller, singleTenant } from "../server/tenancy/caller.js";
import { event, redisUrl, take, waitFor } from "./helpers.js";
import { healthClient } from "./opsHelpers.js";

const SECRET = "secret-xyz";
const WRONG_SECRET = "wrong-secret-4711";

interface LogLine {
  level: number;
  msg: string;
  method?: string;
  code?: string;
  durationMs?: number;
  correlationId?: string;
  tenant?: string;
  message?: string;
}

/** Calls GetEventCapabilities with raw metadata; resolves with the response headers' correlation id. */
function capabilities(address: string, md: Metadata): Promise<{ correlationId: string; err?: ServiceError }> {
  const client = new Client(address, credentials.createInsecure());
  const m = kumihoService.GetEventCapabilities;
  if (!m) throw new Error("no GetEventCapabilities");
  return new Promise((res) => {
    let headers = new Metadata();
    const call = client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, {}, md, (err: ServiceError | null) => {
      client.close();
      const fromError = err?.metadata.get("x-correlation-id")[0];
      res({ correlationId: String(headers.get("x-correlation-id")[0] ?? fromError ?? ""), err: err ?? undefined });
    });
    call.on("metadata", (h: Metadata) => {
      headers = h;
    });
  });
}

describe("request logs", () => {
  const output: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      output.push(chunk.toString());
      done();
    },
  });
  const lines = (): LogLine[] =>
    output
      .join("")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LogLine);
  const rpcLines = (method: string) => lines().filter((l) => l.msg === "rpc" && l.method === method);

  // A token resolver like an auth layer's, including one that quotes the rejected token in its error.
  const byToken: ResolveCaller = (md) => {
    const auth = String(md.get("authorization")[0] ?? "");
    if (auth === `Bearer ${SECRET}`) return singleTenant("acme")(md);
    throw new StreamgateError(status.UNAUTHENTICATED, `token ${auth.replace(/^Bearer /, "")} is not valid`);
  };
  let app: Streamgate;

  beforeAll(async () => {
    const config = loadConfig({}, { listen: "127.0.0.1:0", metricsListen: "off", logLevel: "trace", keyPrefix: `test-log-${Date.now()}` });
    app = await startStreamgate({ config, log: createLogger("trace", destination), redisUrl: redisUrl(), resolveCaller: byToken });
  });
  afterAll(async () => {
    await app.close(2000);
  });

  it("writes one JSON line per RPC with method, code, duration, correlation id and tenant, and never a token", async () => {
    const client = createClient({ address: app.address, token: SECRET });
    const intruder = createClient({ address: app.address, token: WRONG_SECRET });
    const health = healthClient(app.address);
    try {
      const sub = client.eventStream({});
      await sub.ready;
      await client.publish(event(1));
      expect(await take(sub, 1)).toHaveLength(1);
      await expect(intruder.publish(event(2))).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
      await expect(client.publish({ routingKey: "", kref: "bad" })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
      expect(await health.check()).toBe("SERVING");
      await waitFor(() => rpcLines("/streamgate.v1.Streamgate/Subscribe").length === 1, "the subscription's log line");
    } finally {
      client.close();
      intruder.close();
      health.close();
    }

    const publishes = rpcLines("/streamgate.v1.Streamgate/Publish");
    expect(publishes.map((l) => l.code).sort()).toEqual(["INVALID_ARGUMENT", "OK", "UNAUTHENTICATED"]);
    const ok = publishes.find((l) => l.code === "OK");
    expect(ok?.tenant).toBe("acme");
    expect(ok?.durationMs).toBeGreaterThanOrEqual(0);
    expect(publishes.find((l) => l.code === "UNAUTHENTICATED")?.message).toBe("token [redacted] is not valid");
    const [subscribe] = rpcLines("/streamgate.v1.Streamgate/Subscribe");
    expect(subscribe).toMatchObject({ code: "CANCELLED", tenant: "acme" });
    // Health probes are logged too, at debug level so that frequent probes stay out of info logs.
    expect(rpcLines("/grpc.health.v1.Health/Check")[0]).toMatchObject({ code: "OK", level: 20 });
    for (const line of lines().filter((l) => l.msg === "rpc")) {
      expect(line.correlationId).toMatch(/^[0-9a-f-]{36}$/);
      expect(lines().filter((l) => l.correlationId === line.correlationId)).toHaveLength(1);
    }

    const all = output.join("");
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(WRONG_SECRET);
    expect(all.toLowerCase()).not.toContain("bearer");
  });

  it("uses the caller's x-correlation-id, echoes it in the response headers, and generates one when absent", async () => {
    const md = new Metadata();
    md.set("authorization", `Bearer ${SECRET}`);
    md.set("x-correlation-id", "req-7f3a");
    const given = await capabilities(app.address, md);
    expect(given.err).toBeUndefined();
    expect(given.correlationId).toBe("req-7f3a");
    const capsLines = () => rpcLines("/kumiho.KumihoService/GetEventCapabilities");
    expect(capsLines().find((l) => l.correlationId === "req-7f3a")).toMatchObject({ code: "OK", tenant: "acme" });

    // No token and no id: refused, and the error still carries the generated id that was logged.
    const refused = await capabilities(app.address, new Metadata());
    expect(refused.err?.code).toBe(status.UNAUTHENTICATED);
    expect(refused.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(capsLines().find((l) => l.correlationId === refused.correlationId)).toMatchObject({ code: "UNAUTHENTICATED" });
    expect(output.join("")).not.toContain(SECRET);
  });
});
