import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { Client, credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../client-sdk/src/index.js";
import { type Streamgate, startStreamgate } from "../server/app.js";
import { loadConfig } from "../server/config/loadConfig.js";
import { StreamgateError } from "../server/errors.js";
import { createLogger } from "../server/observability/logger.js";
import { kumihoService } from "../server/rpc/serviceDefinitions.js";
import { type ResolveCaller, singleTenant } from "../server/tenancy/caller.js";
import { defaultTiers, type Tier } from "../server/tenancy/tiers.js";
import { event, redisUrl, take, waitFor } from "./helpers.js";
import { capturedServer, expectNoSecrets, type LogLine } from "./logCapture.js";
import { healthClient } from "./opsHelpers.js";
import { md, rawClients, streamStatus, unary } from "./tenancyHelpers.js";

const SECRET = "secret-xyz";
const WRONG_SECRET = "wrong-secret-4711";

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
    // The client's address, read when the call started (a cancelled call no longer knows it).
    expect(subscribe?.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(ok?.peer).toMatch(/^127\.0\.0\.1:\d+$/);
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

describe("error details", () => {
  // A Redis user that may do everything but append (XADD) and range-read (XRANGE) streams: Publish and a
  // replay's catch-up then fail with errors Streamgate does not expect, on a real Redis and a real server.
  const user = `sg-test-${randomUUID()}`;
  const password = randomUUID();
  const unbounded: Tier = { ...(defaultTiers.enterprise as Tier), maxRetentionHours: -1, maxBufferSize: -1 };
  const resolve: ResolveCaller = (metadata) => {
    const token = String(metadata.get("authorization")[0] ?? "");
    if (token === "Bearer boom") throw new Error("a bug in the caller resolver");
    return singleTenant("acme", unbounded)(metadata);
  };
  let admin: Redis;
  let server: Awaited<ReturnType<typeof capturedServer>>;

  beforeAll(async () => {
    admin = new Redis(redisUrl());
    await admin.call("ACL", "SETUSER", user, "on", `>${password}`, "~*", "&*", "+@all", "-xadd", "-xrange");
    const url = new URL(redisUrl());
    url.username = user;
    url.password = password;
    server = await capturedServer({ retentionSweepMs: 0 }, resolve, url.toString());
  });
  afterAll(async () => {
    await server?.app.close(2000);
    await admin.call("ACL", "DELUSER", user);
    admin.disconnect();
  });

  const rpcLine = (method: string, code: string) =>
    server.lines().find((l) => l.msg === "rpc" && l.method === `/${method}` && l.code === code) as LogLine;

  it("a unary call's INTERNAL error is logged with the correlation id, method and tenant of its request line", async () => {
    const raw = rawClients(server.app.address);
    try {
      const publish = unary(
        raw.sg,
        "Publish",
        { routingKey: "a.b", kref: { uri: "kref://p/s/n.k" } },
        md("t", { "x-correlation-id": "req-internal-1" }),
      );
      await expect(publish).rejects.toMatchObject({ code: status.INTERNAL, details: "internal error; see server logs" });
      await expect(unary(raw.kumiho, "GetEventCapabilities", {}, md("boom"))).rejects.toMatchObject({ code: status.INTERNAL });
    } finally {
      raw.close();
    }
    const request = rpcLine("streamgate.v1.Streamgate/Publish", "INTERNAL");
    expect(request).toMatchObject({ correlationId: "req-internal-1", tenant: "acme" });
    const detail = server.lines().find((l) => l.msg === "unexpected error in RPC" && l.correlationId === "req-internal-1");
    expect(detail).toMatchObject({ level: 50, method: "/streamgate.v1.Streamgate/Publish", tenant: "acme" });
    // XADD refused: directly (NOPERM), or inside the append script.
    expect(detail?.err?.message).toMatch(/NOPERM|can't run this command/);

    // Failing before the caller is known: the generated correlation id still joins the two lines; no tenant.
    const early = rpcLine("kumiho.KumihoService/GetEventCapabilities", "INTERNAL");
    expect(early.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    const earlyDetail = server.lines().find((l) => l.msg === "unexpected error in RPC" && l.correlationId === early.correlationId);
    expect(earlyDetail).toMatchObject({ method: "/kumiho.KumihoService/GetEventCapabilities" });
    expect(earlyDetail?.err?.message).toBe("a bug in the caller resolver");
    expect(earlyDetail?.tenant).toBeUndefined();
  });

  it("a subscription's INTERNAL error (failed catch-up read) is logged with its call's correlation id and tenant", async () => {
    const client = createClient({ address: server.app.address, token: "t" });
    try {
      const closed = await client.eventStream({ fromBeginning: true, resume: false }).closed;
      expect(closed?.code).toBe(status.INTERNAL);
    } finally {
      client.close();
    }
    await waitFor(() => rpcLine("streamgate.v1.Streamgate/Subscribe", "INTERNAL") !== undefined, "the subscription's request line");
    const request = rpcLine("streamgate.v1.Streamgate/Subscribe", "INTERNAL");
    expect(request.tenant).toBe("acme");
    const details = server.lines().filter((l) => l.msg === "subscription failed");
    expect(details).toHaveLength(1);
    expect(details[0]).toMatchObject({
      level: 50,
      correlationId: request.correlationId,
      tenant: "acme",
      method: "/streamgate.v1.Streamgate/Subscribe",
    });
    expect(details[0]?.err?.message).toMatch(/EXECABORT|NOPERM/);
  });
});

describe("no credentials in the logs", () => {
  const ADMIN_KEY = `admin-${randomBytes(18).toString("base64url")}`;
  const WRONG_ADMIN_KEY = `admin-${randomBytes(18).toString("base64url")}`;
  const call = { routingKey: "a.b", kref: { uri: "kref://p/s/n.k" } };

  /** Every way a token can reach the server, refused or not: unary calls, a stream, capabilities, the Admin service. */
  async function useToken(token: string, raw: ReturnType<typeof rawClients>): Promise<number[]> {
    const codes: number[] = [];
    const code = (p: Promise<unknown>) =>
      p.then(
        () => status.OK,
        (err: ServiceError) => err.code,
      );
    codes.push(await code(unary(raw.sg, "Publish", call, md(token))));
    codes.push(await code(unary(raw.kumiho, "GetEventCapabilities", {}, md(token))));
    codes.push((await streamStatus(raw.sg, "Subscribe", {}, md(token))).code);
    codes.push(await code(unary(raw.admin, "ListKeys", {}, md(token))));
    // Without the Bearer scheme, and in the other credential header the scrubber knows.
    const bare = new Metadata();
    bare.set("authorization", token);
    codes.push(await code(unary(raw.sg, "Publish", call, bare)));
    const apiKey = new Metadata();
    apiKey.set("x-api-key", token);
    codes.push(await code(unary(raw.sg, "Publish", call, apiKey)));
    return codes;
  }

  it("STREAMGATE_AUTH=keys: valid, wrong and malformed API keys and admin keys never appear in the log output", async () => {
    const server = await capturedServer({ auth: "keys", adminKey: ADMIN_KEY });
    const raw = rawClients(server.app.address);
    try {
      const key = await server.app.tenancy.keyStore.create({ tenant: "acme", tier: "creator" });
      const client = createClient({ address: server.app.address, token: key.token });
      try {
        const sub = client.eventStream({});
        await sub.ready;
        await client.publish(event(1));
        expect(await take(sub, 1)).toHaveLength(1);
      } finally {
        client.close();
      }
      const wrong = `sg_${randomBytes(32).toString("base64url")}`; // well-formed, unknown
      const malformed = [`${key.token}x`, key.token.slice(0, -1), `sg_${"!".repeat(43)}`, "not-a-key-at-all-4711"];
      expect((await useToken(key.token, raw)).slice(0, 3)).toEqual([status.OK, status.OK, status.OK]);
      for (const token of [wrong, ...malformed]) {
        const codes = await useToken(token, raw);
        expect(codes.slice(0, 3), token).toEqual([status.UNAUTHENTICATED, status.UNAUTHENTICATED, status.UNAUTHENTICATED]);
      }
      // The Admin service: the admin key, a wrong one, and an API key in its place; a created key's token is a secret too.
      const created = await unary<{ token: string }>(raw.admin, "CreateKey", { tenant: "other", tier: "free" }, md(ADMIN_KEY));
      expect(created.token).toMatch(/^sg_/);
      for (const token of [WRONG_ADMIN_KEY, key.token]) {
        await expect(unary(raw.admin, "ListKeys", {}, md(token))).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
      }
      // A valid key naming another tenant in x-tenant-id.
      await expect(unary(raw.sg, "Publish", call, md(key.token, { "x-tenant-id": "someone-else" }))).rejects.toMatchObject({
        code: status.PERMISSION_DENIED,
      });
      await waitFor(() => server.lines().filter((l) => l.msg === "rpc").length >= 40, "the request lines");
      expect(server.lines().some((l) => l.code === "UNAUTHENTICATED")).toBe(true);
      expectNoSecrets(server.text(), [key.token, wrong, ...malformed, ADMIN_KEY, WRONG_ADMIN_KEY, created.token]);
    } finally {
      raw.close();
      await server.app.close(2000);
    }
  });

  it("STREAMGATE_AUTH=jwt: valid, wrongly signed, expired and malformed tokens and the secret never appear in the log output", async () => {
    const secret = `jwt-secret-${randomBytes(24).toString("base64url")}`;
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const hs256 = (payload: Record<string, unknown>, key = secret, header: Record<string, unknown> = { alg: "HS256", typ: "JWT" }) => {
      const input = `${b64(header)}.${b64(payload)}`;
      return `${input}.${createHmac("sha256", key).update(input).digest("base64url")}`;
    };
    const now = Math.floor(Date.now() / 1000);
    const claims = { tenant: "acme", tier: "creator", exp: now + 600 };
    const server = await capturedServer({ auth: "jwt", jwtSecret: secret, adminKey: ADMIN_KEY });
    const raw = rawClients(server.app.address);
    try {
      const valid = hs256(claims);
      const client = createClient({ address: server.app.address, token: valid });
      try {
        const sub = client.eventStream({});
        await sub.ready;
        await client.publish(event(1));
        expect(await take(sub, 1)).toHaveLength(1);
      } finally {
        client.close();
      }
      const wrongSignature = hs256(claims, `another-secret-${randomBytes(24).toString("base64url")}`);
      const expired = hs256({ ...claims, exp: now - 3600 });
      const algNone = `${b64({ alg: "none", typ: "JWT" })}.${b64({ ...claims, jti: randomUUID() })}.`;
      const malformed = [
        valid.slice(0, -6),
        valid.split(".").slice(0, 2).join("."),
        `${valid}.extra`,
        "not.a.jwt-4711",
        "no-dots-at-all-4711",
      ];
      expect((await useToken(valid, raw)).slice(0, 3)).toEqual([status.OK, status.OK, status.OK]);
      for (const token of [wrongSignature, expired, algNone, ...malformed]) {
        const codes = await useToken(token, raw);
        expect(codes.slice(0, 3), token).toEqual([status.UNAUTHENTICATED, status.UNAUTHENTICATED, status.UNAUTHENTICATED]);
      }
      await expect(unary(raw.admin, "ListKeys", {}, md(valid))).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
      expect(server.lines().some((l) => l.code === "UNAUTHENTICATED")).toBe(true);
      const signatures = [valid, wrongSignature, expired].map((t) => t.split(".")[2] as string);
      expectNoSecrets(server.text(), [valid, wrongSignature, expired, algNone, ...malformed, ...signatures, secret, ADMIN_KEY]);
    } finally {
      raw.close();
      await server.app.close(2000);
    }
  });
});
