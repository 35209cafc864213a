// Property: whatever bytes a caller sends as the request body of any method
// (random, or a valid message with a few bytes changed), the server answers
// with a specific status (never INTERNAL or UNKNOWN, never a hang), stays up,
// and a normal publish and subscribe work afterwards.
import { type Client, Metadata } from "@grpc/grpc-js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, it } from "vitest";
import { expectSpecific, expectStillServing, fuzzParams } from "./fuzzRun.js";
import { type FuzzServer, startFuzzServer } from "./fuzzServer.js";
import { bodyArbitrary } from "./messageArbitraries.js";
import { callRaw, METHODS, type Method, rawClient } from "./rawCalls.js";

const ADMIN_KEY = "an-admin-key-for-the-fuzz-suite";

describe("fuzz: raw request bodies", () => {
  let t: FuzzServer;
  let raw: Client;
  beforeAll(async () => {
    t = await startFuzzServer({ STREAMGATE_ADMIN_KEY: ADMIN_KEY, STREAMGATE_GROUP_JOIN_TIMEOUT_MS: "1000" });
    raw = rawClient(t.address);
  });
  afterAll(async () => {
    raw.close();
    await t.close();
  });
  // The admin key too, so Admin bodies that decode reach the handlers instead of stopping at the guard.
  const metadata = () => {
    const md = new Metadata();
    md.set("authorization", `Bearer ${ADMIN_KEY}`);
    return md;
  };

  const unary = METHODS.filter((m) => !m.requestStream && !m.responseStream);
  const serverStreams = METHODS.filter((m) => !m.requestStream && m.responseStream);
  const clientStreams = METHODS.filter((m) => m.requestStream);

  /** A method and bodies for it (one for all but request-streaming methods). */
  const callArbitrary = (methods: readonly Method[], maxMessages = 1) =>
    fc
      .constantFrom(...methods)
      .chain((m) => fc.tuple(fc.constant(m), fc.array(bodyArbitrary(m.requestType), { minLength: 1, maxLength: maxMessages })));

  it.each([
    ["unary methods", unary, 1, 600],
    ["server-streaming methods (EventStream, Subscribe, Health/Watch)", serverStreams, 1, 200],
    ["Consume, with sequences of messages", clientStreams, 4, 120],
  ] as const)("%s answer any body with a specific code", async (what, methods, maxMessages, runs) => {
    await fc.assert(
      fc.asyncProperty(callArbitrary(methods, maxMessages), async ([m, bodies]) => {
        const outcome = await callRaw(raw, m, bodies, { metadata: metadata() });
        expectSpecific(outcome, { method: m.path, bodies });
      }),
      fuzzParams(`raw bodies, ${what}`, runs),
    );
    await expectStillServing(t);
  });
});
