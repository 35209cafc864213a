// Property: whatever metadata a call carries (authorization values, x-tenant-id,
// x-correlation-id, grpc-timeout, any other header) and whatever claims a
// correctly signed JWT holds, the answer is a specific status and the server
// keeps serving. Headers go out over bare HTTP/2, so values a grpc-js client
// would refuse to send (non-ASCII, duplicates) are covered too.
import { createHmac } from "node:crypto";
import { status } from "@grpc/grpc-js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type StreamgateClient } from "../../client-sdk/src/index.js";
import { md, rawClients, unary } from "../tenancyHelpers.js";
import { expectSpecific, expectStillServing, fuzzParams } from "./fuzzRun.js";
import { type FuzzServer, startFuzzServer } from "./fuzzServer.js";
import { encodeMessage } from "./messageArbitraries.js";
import { frame, type Method, method, type RawSession, rawSession } from "./rawCalls.js";

const ADMIN_KEY = "an-admin-key-for-the-fuzz-suite";
const JWT_SECRET = "an-hs256-secret-of-at-least-32-characters";

/** Methods with a valid request each, so the metadata decides the answer. */
const calls: [Method, Buffer][] = [
  [method("kumiho.KumihoService/GetEventCapabilities"), Buffer.alloc(0)],
  [method("kumiho.KumihoService/EventStream"), encodeMessage("kumiho.EventStreamRequest", { routingKeyFilter: "meta.*" })],
  [
    method("streamgate.v1.Streamgate/Publish"),
    encodeMessage("streamgate.v1.PublishRequest", { routingKey: "meta.x", kref: { uri: "kref://m/x.y" } }),
  ],
  [method("streamgate.v1.ConsumerGroups/ListGroups"), Buffer.alloc(0)],
  [
    method("streamgate.v1.ConsumerGroups/Consume"),
    encodeMessage("streamgate.v1.ConsumeRequest", { join: { group: "meta", routingKeyFilter: "meta.*" } }),
  ],
  [method("streamgate.v1.Admin/ListKeys"), Buffer.alloc(0)],
  [method("grpc.health.v1.Health/Check"), Buffer.alloc(0)],
];

/**
 * What HTTP/2 itself refuses, before gRPC sees a request: a value with a byte an HTTP/2 field may not
 * hold, a control character or a character Node cannot encode as one byte (the server resets the
 * stream, PROTOCOL_ERROR). A value with leading or trailing whitespace is dropped instead. (A header
 * block over 64 KiB is refused with the whole connection: tests/malformedRequests.test.ts; the
 * values here stay well below.)
 */
function http2Refuses(headers: Record<string, string>): boolean {
  return Object.values(headers).some((v) => /[^\t\x20-\x7e\x80-\xff]/.test(v));
}

/**
 * Calls `m` over `session` with `headers`. Resolves undefined when Node will not send them, and
 * with "refused by HTTP/2" when the server's HTTP/2 layer reset the stream (see {@link http2Refuses}).
 */
async function send(session: RawSession, m: Method, body: Buffer, headers: Record<string, string>) {
  try {
    return await session.request(m.path, frame(body), headers, m.responseStream);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === "ERR_HTTP2_INVALID_HEADER_VALUE") return undefined;
    if (e.code === "ERR_HTTP2_STREAM_ERROR" && /PROTOCOL_ERROR/.test(String(e.message))) {
      expect(http2Refuses(headers), `HTTP/2 refused ${JSON.stringify(headers).slice(0, 300)}: ${e.message}`).toBe(true);
      return undefined;
    }
    throw err;
  }
}

const printableAscii = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
/** Short strings of any kind (claims and header values stay far below the 64 KiB header limit). */
const shortString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 20 }),
);
/** Header values: printable ASCII mostly, and Latin-1 or any unicode, which HTTP/2 may or may not carry. */
const headerValue = fc.oneof(
  { arbitrary: printableAscii, weight: 4 },
  { arbitrary: shortString, weight: 2 },
  { arbitrary: fc.string({ unit: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 8 }), weight: 1 },
);

describe("fuzz: metadata (API keys)", () => {
  let t: FuzzServer;
  let session: RawSession;
  let apiKey: string;
  let client: StreamgateClient;
  beforeAll(async () => {
    t = await startFuzzServer({ STREAMGATE_AUTH: "keys", STREAMGATE_ADMIN_KEY: ADMIN_KEY, STREAMGATE_GROUP_JOIN_TIMEOUT_MS: "1000" });
    const admin = rawClients(t.address);
    const created = await unary<{ token: string }>(admin.admin, "CreateKey", { tenant: "acme", tier: "enterprise" }, md(ADMIN_KEY));
    admin.close();
    apiKey = created.token;
    client = createClient({ address: t.address, token: apiKey });
    session = rawSession(t.address);
  });
  afterAll(async () => {
    session.close();
    client.close();
    await t.close();
  });

  it("any authorization, x-tenant-id, x-correlation-id and other headers get a specific answer", async () => {
    const authorization = fc.oneof(
      fc.constantFrom(`Bearer ${apiKey}`, `bearer   ${apiKey}`, `Bearer ${ADMIN_KEY}`, "Bearer", "Bearer ", "Basic abc", ""),
      headerValue.map((v) => `Bearer ${v}`),
      headerValue,
      fc.nat({ max: 20_000 }).map((n) => `Bearer ${"k".repeat(n)}`),
      fc.constant(`Bearer ${apiKey}\u00e9`),
    );
    const headers = fc.record(
      {
        authorization,
        "x-tenant-id": fc.oneof(fc.constantFrom("acme", "other", "", " acme"), headerValue),
        "x-correlation-id": fc.oneof(fc.constantFrom("abc-123", "", "x".repeat(129)), headerValue),
        "x-api-key": headerValue,
        "user-agent": headerValue,
        "grpc-accept-encoding": fc.constantFrom("gzip", "identity", "br, zstd", ""),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...calls), headers, async ([m, body], h) => {
        const outcome = await send(session, m, body, h as Record<string, string>);
        if (outcome) expectSpecific(outcome, { method: m.path, headers: h });
      }),
      fuzzParams("metadata, headers", 300),
    );
    expect(session.alive()).toBe(true);
    await expectStillServing(t, client);
  });

  it("grpc-timeout: a timeout gets a specific answer, anything else INVALID_ARGUMENT, and the connection survives", async () => {
    const timeout = fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 99_999_999 }), fc.constantFrom("H", "M", "S", "m", "u", "n")).map(([n, u]) => `${n}${u}`),
      fc.constantFrom("abc", "", " ", "-1S", "1.5S", "123456789S", "1s", "1 S", "S", "1", "0x10S", "1S1S", "x5m"),
      printableAscii,
    );
    const publish = calls[2] as [Method, Buffer];
    await fc.assert(
      fc.asyncProperty(timeout, async (value) => {
        const outcome = await send(session, publish[0], publish[1], { "grpc-timeout": value, authorization: `Bearer ${apiKey}` });
        if (!outcome) return;
        if (/^[ \t]|[ \t]$/.test(value)) {
          // HTTP/2 drops a field with leading or trailing whitespace: the call has no grpc-timeout.
          expectSpecific(outcome, { "grpc-timeout": value });
        } else if (/^\d{1,8}[HMSmun]$/.test(value)) {
          // A deadline the caller asked for may pass: DEADLINE_EXCEEDED is then the specific answer.
          if (outcome.code !== status.DEADLINE_EXCEEDED) expectSpecific(outcome, { "grpc-timeout": value });
        } else {
          expect(outcome.code, outcome.details).toBe(status.INVALID_ARGUMENT);
          expect(outcome.details).toMatch(/^grpc-timeout ".*" is not a timeout: send 1 to 8 digits and a unit/);
        }
      }),
      fuzzParams("metadata, grpc-timeout", 200),
    );
    expect(session.alive()).toBe(true);
    await expectStillServing(t, client);
  });
});

/** A correctly signed HS256 token whose payload is the JSON text `payload`. */
function token(payload: string): string {
  const b64 = (s: string) => Buffer.from(s).toString("base64url");
  const input = `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64(payload)}`;
  return `${input}.${createHmac("sha256", JWT_SECRET).update(input).digest("base64url")}`;
}

describe("fuzz: JWT claims", () => {
  let t: FuzzServer;
  let session: RawSession;
  let client: StreamgateClient;
  beforeAll(async () => {
    t = await startFuzzServer({ STREAMGATE_AUTH: "jwt", STREAMGATE_JWT_SECRET: JWT_SECRET });
    const exp = Math.floor(Date.now() / 1000) + 600;
    client = createClient({ address: t.address, token: token(`{"tenant":"acme","tier":"creator","exp":${exp}}`) });
    session = rawSession(t.address);
  });
  afterAll(async () => {
    session.close();
    client.close();
    await t.close();
  });

  it("any claims in a correctly signed token get a specific answer", async () => {
    const now = Math.floor(Date.now() / 1000);
    // JSON text, so numbers JavaScript cannot write (1e400) are covered.
    const numberText = fc.oneof(
      fc.constantFrom("1e400", "-1e400", "1e20", "-1e20", "8640000000000", "8640000000001", "-0", "0", "1.5", "9007199254740993"),
      fc.integer({ min: now - 1000, max: now + 1000 }).map(String),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
    );
    const anyJson = fc.oneof(
      numberText,
      shortString.map((s) => JSON.stringify(s)),
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? "null"),
    );
    const claim = (likely: fc.Arbitrary<string>) => fc.oneof({ arbitrary: likely, weight: 3 }, { arbitrary: anyJson, weight: 1 });
    const claims = fc.record(
      {
        tenant: claim(fc.constantFrom('"acme"', '"other-tenant"', '""', '"ACME"')),
        tier: claim(fc.constantFrom('"creator"', '"free"', '"enterprise"', '"nope"', '"__proto__"')),
        exp: claim(numberText),
        nbf: claim(numberText),
        iat: anyJson,
        iss: anyJson,
        aud: anyJson,
      },
      { requiredKeys: [] },
    );
    const payload = claims.map(
      (c) =>
        `{${Object.entries(c)
          .map(([k, v]) => `${JSON.stringify(k)}:${v}`)
          .join(",")}}`,
    );
    const jwtCalls = [calls[0], calls[1], calls[2]] as [Method, Buffer][];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...jwtCalls), payload, async ([m, body], p) => {
        const outcome = await send(session, m, body, { authorization: `Bearer ${token(p)}` });
        if (outcome) expectSpecific(outcome, { method: m.path, payload: p });
      }),
      fuzzParams("JWT claims", 300),
    );
    expect(session.alive()).toBe(true);
    await expectStillServing(t, client);
  });
});
