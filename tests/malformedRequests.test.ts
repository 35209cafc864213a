// Hostile and broken requests are the caller's mistake: every method answers a
// request body that is not a valid message, and a grpc-timeout that is not a
// timeout, with INVALID_ARGUMENT saying what is wrong (never INTERNAL, which
// says the server is at fault), and the server keeps serving; so does a body
// that is not gzip, and a compressed frame without an encoding; and JWT time
// claims no date can hold.
import { createHmac } from "node:crypto";
import { gzipSync } from "node:zlib";
import { type Client, Metadata, status } from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { descriptor } from "../client-sdk/src/generated/descriptor.js";
import { createClient } from "../client-sdk/src/index.js";
import { decodePublishRequest } from "../server/events/decodePublish.js";
import { MalformedRequest } from "../server/rpc/malformedRequest.js";
import { consumerGroupsService, kumihoService, streamgateService } from "../server/rpc/serviceDefinitions.js";
import { wireFormatProblem } from "../server/rpc/wireFormatProblem.js";
import { expectStillServing } from "./fuzz/fuzzRun.js";
import { callRaw, frame, METHODS, method, rawClient, rawSession } from "./fuzz/rawCalls.js";
import { startTestServer, type TestServer } from "./helpers.js";
import { capturedServer } from "./logCapture.js";
import { expectCode } from "./tenancyHelpers.js";

const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
const encode = (type: string, value: object) => {
  const t = root.lookupType(type);
  return Buffer.from(t.encode(t.fromObject(value)).finish());
};

/** Field 1, length-delimited, declared 2^31 bytes long, with "abc" following: the case of issue #12. */
const PAST_THE_END = Buffer.from([0x0a, 0x80, 0x80, 0x80, 0x80, 0x08, 0x61, 0x62, 0x63]);
const ADMIN_KEY = "an-admin-key-for-malformed-tests";

describe("malformed request bodies", () => {
  let t: TestServer;
  let raw: Client;
  beforeAll(async () => {
    t = await startTestServer({ adminKey: ADMIN_KEY });
    raw = rawClient(t.app.address);
  });
  afterAll(async () => {
    raw.close();
    await t.close();
  });
  const admin = () => {
    const md = new Metadata();
    md.set("authorization", `Bearer ${ADMIN_KEY}`);
    return md;
  };

  it.each(METHODS.map((m) => [m.path, m]))("%s: a length prefix past the end is INVALID_ARGUMENT naming the type", async (_, m) => {
    const outcome = await callRaw(raw, m, [PAST_THE_END], { metadata: admin() });
    expect(outcome.code, outcome.details).toBe(status.INVALID_ARGUMENT);
    expect(outcome.details).toMatch(
      new RegExp(`^request body is not a valid ${m.requestType.replaceAll(".", "\\.")}: field \\w+: length 2147483648 runs past the end`),
    );
  });

  it("a string declared longer than the body is refused, not read as the bytes present", async () => {
    // protobufjs (proto-loader's decoder) reads this as routing_key_filter "abc"; the wire check refuses it.
    const subscribe = await callRaw(raw, method("kumiho.KumihoService/EventStream"), [PAST_THE_END]);
    expect(subscribe).toEqual({
      code: status.INVALID_ARGUMENT,
      details:
        "request body is not a valid kumiho.EventStreamRequest: field routing_key_filter: length 2147483648 runs past the end of its message (3 bytes left)",
    });
    const publish = await callRaw(raw, method("streamgate.v1.Streamgate/Publish"), [PAST_THE_END]);
    expect(publish.details).toBe(
      "request body is not a valid streamgate.v1.PublishRequest: field routing_key: length 2147483648 runs past the end of its message (3 bytes left)",
    );
    await expectStillServing(t);
  });

  it("a field inside a nested message may not run past that message's end", async () => {
    // join { group: 5 bytes } where join itself holds only 4: protobufjs would read into what follows.
    const body = Buffer.from([0x0a, 0x04, 0x0a, 0x05, 0x61, 0x62, 0x12, 0x00, 0x63]);
    const outcome = await callRaw(raw, method("streamgate.v1.ConsumerGroups/Consume"), [body]);
    expect(outcome).toEqual({
      code: status.INVALID_ARGUMENT,
      details:
        "request body is not a valid streamgate.v1.ConsumeRequest: field join.group: length 5 runs past the end of its message (2 bytes left)",
    });
  });

  it("Consume: a malformed message after a valid join ends the stream with INVALID_ARGUMENT", async () => {
    const join = encode("streamgate.v1.ConsumeRequest", { join: { group: "malformed", routingKeyFilter: "x.*" } });
    const outcome = await callRaw(raw, method("streamgate.v1.ConsumerGroups/Consume"), [join, Buffer.from([0x12, 0x05, 0x0a])]);
    expect(outcome.code, outcome.details).toBe(status.INVALID_ARGUMENT);
    expect(outcome.details).toMatch(/^request body is not a valid streamgate\.v1\.ConsumeRequest: field ack: length 5 runs past the end/);
    await expectStillServing(t);
  });

  it("a known field sent with another wire type is refused instead of misread", async () => {
    // routing_key_filter as a varint: protobufjs would take the varint as a string length.
    const outcome = await callRaw(raw, method("kumiho.KumihoService/EventStream"), [Buffer.from([0x08, 0x03, 0x61, 0x62, 0x63])]);
    expect(outcome.details).toBe(
      "request body is not a valid kumiho.EventStreamRequest: field routing_key_filter: has wire type 0; a string field is sent with wire type 2",
    );
    const publish = await callRaw(raw, method("streamgate.v1.Streamgate/Publish"), [Buffer.from([0x08, 0x03])]);
    expect(publish.code).toBe(status.INVALID_ARGUMENT);
  });

  it("valid bodies with unknown fields still work (a newer client)", async () => {
    const body = Buffer.concat([
      encode("streamgate.v1.PublishRequest", { routingKey: "unknown.fields", kref: { uri: "kref://a/b.c" } }),
      Buffer.from([0xc8, 0x01, 0x05, 0xd2, 0x01, 0x01, 0x00]), // field 25 varint 5, field 26 bytes [0]
    ]);
    expect((await callRaw(raw, method("streamgate.v1.Streamgate/Publish"), [body])).code).toBe(status.OK);
    const caps = await callRaw(raw, method("kumiho.KumihoService/GetEventCapabilities"), [Buffer.from([0x08, 0x01])]);
    expect(caps.code).toBe(status.OK);
  });

  it("the decoders hand grpc-js a MalformedRequest instead of throwing", () => {
    const decoders = [streamgateService.Publish, streamgateService.PublishBatch, kumihoService.EventStream, consumerGroupsService.Consume];
    for (const d of decoders) {
      const value = d?.requestDeserialize(PAST_THE_END);
      expect(value).toBeInstanceOf(MalformedRequest);
    }
    // The hand-written Publish decoder refuses the same input itself (its Reader checks every length).
    expect(() => decodePublishRequest(PAST_THE_END)).toThrow(/truncated/);
    // Tag 8 padded to 6 bytes: protobufjs would skip 5 bytes after the fifth, reading past this one.
    expect(wireFormatProblem(Buffer.from([0x88, 0x80, 0x80, 0x80, 0x80, 0x00]), "kumiho.EventStreamRequest")).toBe(
      "at byte 0: field tag 8 takes 6 bytes (a field tag is below 2^32, in at most 5)",
    );
    // join { max_in_flight: 2^32 }: protobufjs would keep the low 32 bits (0).
    expect(wireFormatProblem(Buffer.from([0x0a, 0x06, 0x40, 0x80, 0x80, 0x80, 0x80, 0x10]), "streamgate.v1.ConsumeRequest")).toBe(
      "field join.max_in_flight: value 4294967296 is out of range for uint32",
    );
  });
});

describe("malformed requests in the request log", () => {
  it("are logged and counted as INVALID_ARGUMENT with the reason, not as a server error or a cancellation", async () => {
    const server = await capturedServer({});
    const raw = rawClient(server.app.address);
    try {
      const outcome = await callRaw(raw, method("streamgate.v1.Streamgate/Publish"), [PAST_THE_END]);
      expect(outcome.code).toBe(status.INVALID_ARGUMENT);
      const line = server.lines().find((l) => l.msg === "rpc" && l.method === "/streamgate.v1.Streamgate/Publish");
      expect(line).toMatchObject({ code: "INVALID_ARGUMENT", message: outcome.details, level: 30 });
      // A malformed grpc-timeout too (grpc-js's own INTERNAL was logged as CANCELLED: it bypasses interceptors).
      const session = rawSession(server.app.address);
      const timeout = await session.request("/kumiho.KumihoService/GetEventCapabilities", frame(Buffer.alloc(0)), {
        "grpc-timeout": "abc",
      });
      session.close();
      expect(timeout.code).toBe(status.INVALID_ARGUMENT);
      const timeoutLine = server.lines().find((l) => l.msg === "rpc" && l.method === "/kumiho.KumihoService/GetEventCapabilities");
      expect(timeoutLine).toMatchObject({ code: "INVALID_ARGUMENT", message: timeout.details });
    } finally {
      raw.close();
      await server.app.close(1000);
    }
  });
});

describe("headers and framing, which grpc-js reads before any handler", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });
  const publishPath = "/streamgate.v1.Streamgate/Publish";
  const body = () => encode("streamgate.v1.PublishRequest", { routingKey: "raw.http2", kref: { uri: "kref://raw/http2.model" } });

  it("a grpc-timeout that is not a timeout is INVALID_ARGUMENT saying what one is; the connection keeps working", async () => {
    // grpc-js alone answers INTERNAL (server-interceptors.ts handleTimeoutHeader); malformedTimeouts.ts takes it out first.
    const session = rawSession(t.app.address);
    try {
      for (const value of ["abc", "1.5S", "x5m", "123456789S", "5s", "-1S"]) {
        expect(await session.request(publishPath, frame(body()), { "grpc-timeout": value })).toEqual({
          code: status.INVALID_ARGUMENT,
          details: `grpc-timeout "${value}" is not a timeout: send 1 to 8 digits and a unit (H, M, S, m, u or n), e.g. "500m", once`,
        });
      }
      expect(await session.request(publishPath, frame(body()), { "grpc-timeout": "5S" })).toMatchObject({ code: status.OK });
      expect(session.alive()).toBe(true);
    } finally {
      session.close();
    }
    await expectStillServing(t);
  });

  it("a grpc-timeout of 24.9 days or more is not cut short (grpc-js's timer would wrap around)", async () => {
    // grpc-js computes `(value * unitMs) | 0`: 3000000S (34.7 days, what a grpc-js client sends for such a
    // deadline) would become a negative delay and end the call at once with DEADLINE_EXCEEDED.
    const session = rawSession(t.app.address);
    try {
      const subscribe = "/kumiho.KumihoService/EventStream";
      for (const value of ["2000000S", "3000000S", "99999999M"]) {
        expect(await session.request(subscribe, frame(Buffer.alloc(0)), { "grpc-timeout": value }, true)).toEqual({
          code: status.OK,
          details: "open",
        });
      }
      expect(await session.request(subscribe, frame(Buffer.alloc(0)), { "grpc-timeout": "1m" }, true)).toEqual({
        code: status.DEADLINE_EXCEEDED,
        details: "Deadline exceeded",
      });
    } finally {
      session.close();
    }
  });

  it("a compressed frame without grpc-encoding is read as identity: gzip bytes are INVALID_ARGUMENT", async () => {
    const session = rawSession(t.app.address);
    try {
      const outcome = await session.request(publishPath, frame(gzipSync(body()), true));
      expect(outcome.code, outcome.details).toBe(status.INVALID_ARGUMENT);
      expect(outcome.details).toMatch(/^request body is not a valid streamgate\.v1\.PublishRequest: /);
      // With the encoding named, the same frame is a valid gzip publish.
      expect(await session.request(publishPath, frame(gzipSync(body()), true), { "grpc-encoding": "gzip" })).toMatchObject({
        code: status.OK,
      });
    } finally {
      session.close();
    }
  });

  it("an encoding the server does not have is UNIMPLEMENTED (grpc-js)", async () => {
    const session = rawSession(t.app.address);
    try {
      expect(await session.request(publishPath, frame(Buffer.from("xyz"), true), { "grpc-encoding": "br" })).toEqual({
        code: status.UNIMPLEMENTED,
        details: 'Received message compressed with unsupported encoding "br"',
      });
    } finally {
      session.close();
    }
  });

  it("grpc-encoding gzip with bytes that are not gzip: INVALID_ARGUMENT; the connection keeps working", async () => {
    const session = rawSession(t.app.address);
    try {
      // grpc-js (server-interceptors.ts, decompressMessage) would answer INTERNAL itself; grpcJsHooks.ts says whose fault it is.
      expect(await session.request(publishPath, frame(Buffer.from("not gzip at all"), true), { "grpc-encoding": "gzip" })).toEqual({
        code: status.INVALID_ARGUMENT,
        details: "request body is not valid gzip data (grpc-encoding gzip): send it compressed as the header says, or without compression",
      });
      expect(await session.request(publishPath, frame(body()))).toMatchObject({ code: status.OK });
      expect(session.alive()).toBe(true);
    } finally {
      session.close();
    }
    await expectStillServing(t);
  });
});

describe("JWT time claims out of range", () => {
  const SECRET = "an-hs256-secret-of-at-least-32-characters";
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ auth: "jwt", jwtSecret: SECRET });
  });
  afterAll(async () => {
    await t.close();
  });
  const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
  /** `payload` is raw JSON text, so it can hold numbers JavaScript cannot write (1e400). */
  const token = (payload: string) => {
    const input = `${b64({ alg: "HS256", typ: "JWT" })}.${b64(payload)}`;
    return `${input}.${createHmac("sha256", SECRET).update(input).digest("base64url")}`;
  };
  const caps = (payload: string) => {
    const client = createClient({ address: t.app.address, token: token(payload) });
    return client.getEventCapabilities().finally(() => client.close());
  };

  it.each([
    ['"exp": -1e20', /token exp -100000000000000000000 is out of range/],
    ['"nbf": 1e20', /token nbf 100000000000000000000 is out of range/],
    ['"exp": 1e400', /token exp Infinity is out of range/],
    ['"nbf": -1e400', /token nbf -Infinity is out of range/],
    ['"exp": 8640000000001', /token exp 8640000000001 is out of range/],
  ])("%s is UNAUTHENTICATED saying so", async (claim, message) => {
    await expectCode(caps(`{"tenant": "acme", "tier": "creator", ${claim}}`), status.UNAUTHENTICATED, message);
  });

  it("the edges of a date's range still work as time claims", async () => {
    const far = `{"tenant": "acme", "tier": "creator", "exp": 8640000000000, "nbf": -8640000000000}`;
    expect((await caps(far)).tier).toBe("creator");
    await expectCode(caps(`{"tenant": "acme", "tier": "creator", "exp": -8640000000000}`), status.UNAUTHENTICATED, /expired at -271821/);
  });
});
