// STREAMGATE_AUTH=jwt: HS256 with a secret, RS256/ES256 with a JWKS file;
// tenant and tier from claims; exp, nbf, signature and claims all checked.
import { createHmac, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type StreamgateClient } from "../client-sdk/src/index.js";
import { adminKeys } from "../server/redis/layout.js";
import { event, startTestServer, type TestServer, take } from "./helpers.js";
import { expectCode, tiersFile } from "./tenancyHelpers.js";

const SECRET = "an-hs256-secret-of-at-least-32-characters";
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);

function hs256(payload: Record<string, unknown>, secret = SECRET, header: Record<string, unknown> = { alg: "HS256", typ: "JWT" }): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

function signed(alg: "RS256" | "ES256", key: KeyObject, kid: string, payload: Record<string, unknown>): string {
  const input = `${b64({ alg, kid, typ: "JWT" })}.${b64(payload)}`;
  const sig =
    alg === "ES256" ? sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }) : sign("sha256", Buffer.from(input), key);
  return `${input}.${sig.toString("base64url")}`;
}

describe("JWT authentication", () => {
  let t: TestServer;
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const clients: StreamgateClient[] = [];
  const as = (token: string) => {
    const c = createClient({ address: t.app.address, token });
    clients.push(c);
    return c;
  };
  const claims = (over: Record<string, unknown> = {}) => ({ tenant: "acme", tier: "creator", exp: now() + 600, ...over });

  beforeAll(async () => {
    const jwks = tiersFile({
      keys: [
        { ...rsa.publicKey.export({ format: "jwk" }), kid: "rsa-1", use: "sig" },
        { ...ec.publicKey.export({ format: "jwk" }), kid: "ec-1" },
        { kty: "oct", k: "aWdub3JlZA", kid: "symmetric" }, // not a public key: ignored
      ],
    });
    t = await startTestServer({ auth: "jwt", jwtSecret: SECRET, jwksFile: jwks });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await t.close();
  });

  it("accepts a valid HS256 token and takes tenant and tier from its claims", async () => {
    const client = as(hs256(claims()));
    expect((await client.getEventCapabilities()).tier).toBe("creator");
    const sub = client.eventStream();
    await sub.ready;
    const cursor = await client.publish(event(1));
    expect((await take(sub, 1))[0]).toMatchObject({ cursor, tenantId: "acme" });
    expect(await t.redis.hget(adminKeys(t.config.keyPrefix).tenants, "acme")).toBe("creator"); // registered for the sweep
    expect((await as(hs256(claims({ tier: "free" }))).getEventCapabilities()).tier).toBe("free");
  });

  it("accepts RS256 and ES256 tokens signed by a key of the JWKS file", async () => {
    expect((await as(signed("RS256", rsa.privateKey, "rsa-1", claims({ tier: "studio" }))).getEventCapabilities()).tier).toBe("studio");
    expect((await as(signed("ES256", ec.privateKey, "ec-1", claims({ tier: "enterprise" }))).getEventCapabilities()).tier).toBe(
      "enterprise",
    );
  });

  it("refuses expired, not-yet-valid, badly signed and unsigned tokens with UNAUTHENTICATED", async () => {
    const cases: [string, RegExp][] = [
      [hs256(claims({ exp: now() - 120 })), /token expired at/],
      [hs256(claims({ nbf: now() + 600 })), /not valid before/],
      [hs256(claims({ exp: "tomorrow" })), /exp is not a number/],
      [hs256(claims(), "another-secret-of-at-least-32-characters!"), /signature is invalid/],
      [`${hs256(claims()).slice(0, -2)}AA`, /signature is invalid/],
      [`${b64({ alg: "none" })}.${b64(claims())}.`, /algorithm "none" is not accepted/],
      [signed("RS256", stranger.privateKey, "rsa-1", claims()), /signature is invalid/],
      [signed("RS256", rsa.privateKey, "unknown-kid", claims()), /no RS256 key with kid "unknown-kid"/],
      [hs256(claims(), SECRET, { alg: "HS256", crit: ["exp"] }), /crit/],
      ["not.a.jwt!", /not a JWT/],
      ["abc", /not a JWT/],
    ];
    for (const [token, message] of cases) await expectCode(as(token).getEventCapabilities(), status.UNAUTHENTICATED, message);
    const expired = as(hs256(claims({ exp: now() - 120 })));
    expect((await expired.eventStream().closed)?.code).toBe(status.UNAUTHENTICATED);
    await expectCode(expired.publish(event(1)), status.UNAUTHENTICATED);
  });

  it("refuses tokens whose tenant or tier claim is missing or invalid, naming the claim", async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [claims({ tenant: undefined }), /no "tenant" claim/],
      [claims({ tier: undefined }), /no "tier" claim/],
      [claims({ tenant: 42 }), /no "tenant" claim/],
      [claims({ tenant: "acme}:x" }), /"tenant" claim: tenant id .* is invalid/],
      [claims({ tier: "gold" }), /"tier" claim "gold" is not a tier/],
      [claims({ tier: "constructor" }), /"tier" claim "constructor" is not a tier/],
    ];
    for (const [payload, message] of cases) await expectCode(as(hs256(payload)).getEventCapabilities(), status.UNAUTHENTICATED, message);
  });

  it("ends a stream when its token expires", async () => {
    const client = as(hs256(claims({ exp: now() + 1 })));
    const sub = client.eventStream();
    await sub.ready;
    const closed = await sub.closed;
    expect(closed?.code).toBe(status.UNAUTHENTICATED);
    expect(closed?.message).toMatch(/token expired/);
  });
});

describe("JWT configuration", () => {
  it("refuses to start without a key, with a short secret, or with a JWKS file without usable keys", async () => {
    await expect(startTestServer({ auth: "jwt" })).rejects.toThrow(/needs STREAMGATE_JWT_SECRET .* or STREAMGATE_JWKS_FILE/);
    await expect(startTestServer({ auth: "jwt", jwtSecret: "short" })).rejects.toThrow(/at least 32 characters/);
    await expect(startTestServer({ auth: "jwt", jwksFile: tiersFile({ keys: [] }) })).rejects.toThrow(/no RS256 .* or ES256/);
    const priv = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" });
    await expect(startTestServer({ auth: "jwt", jwksFile: tiersFile({ keys: [priv] }) })).rejects.toThrow(/private key/);
  });

  it("checks issuer and audience when configured, and reads custom claim names", async () => {
    const t = await startTestServer({
      auth: "jwt",
      jwtSecret: SECRET,
      jwtIssuer: "https://id.example",
      jwtAudience: "streamgate",
      jwtTenantClaim: "org",
      jwtTierClaim: "plan",
    });
    const caps = (token: string) => {
      const c = createClient({ address: t.app.address, token });
      return c.getEventCapabilities().finally(() => c.close());
    };
    try {
      const good = { org: "acme", plan: "studio", iss: "https://id.example", aud: ["other", "streamgate"], exp: now() + 60 };
      expect((await caps(hs256(good))).tier).toBe("studio");
      await expectCode(caps(hs256({ ...good, iss: "https://evil.example" })), status.UNAUTHENTICATED, /iss/);
      await expectCode(caps(hs256({ ...good, aud: "other" })), status.UNAUTHENTICATED, /aud/);
      await expectCode(caps(hs256({ ...good, org: undefined, tenant: "acme" })), status.UNAUTHENTICATED, /no "org" claim/);
    } finally {
      await t.close();
    }
  });
});
