// Property: well-formed requests with any field values (control characters,
// unicode, strings at and past the limits, odd numbers, several members of a
// oneof, cursors, timestamps and filters that are almost right) get a specific
// answer from every method, streaming ones included, and the server keeps
// publishing and delivering.
import { type Client, Metadata } from "@grpc/grpc-js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, it } from "vitest";
import { deadLetterOne } from "../tenancyHelpers.js";
import { expectSpecific, expectStillServing, fuzzParams } from "./fuzzRun.js";
import { type FuzzServer, startFuzzServer } from "./fuzzServer.js";
import { cursorString, encodeMessage, fieldString, globString, messageArbitrary, timestampString } from "./messageArbitraries.js";
import { callRaw, METHODS, type Method, method, rawClient } from "./rawCalls.js";

const ADMIN_KEY = "an-admin-key-for-the-fuzz-suite";

describe("fuzz: request fields", () => {
  let t: FuzzServer;
  let raw: Client;
  /** A real cursor of the test stream, for cursors that are almost right. */
  let realCursor: string;
  /** A real dead letter of group fuzz-a, so the dead-letter methods get past "no such id". */
  let deadLetter: string;
  beforeAll(async () => {
    t = await startFuzzServer({ STREAMGATE_ADMIN_KEY: ADMIN_KEY, STREAMGATE_GROUP_JOIN_TIMEOUT_MS: "1000" });
    raw = rawClient(t.address);
    realCursor = await t.client.publish({ routingKey: "fuzz.seed", kref: "kref://fuzz/seed.model", details: {} });
    deadLetter = await deadLetterOne(t.client, "fuzz-a", "fuzzed");
  });
  afterAll(async () => {
    raw.close();
    await t.close();
  });
  const metadata = () => {
    const md = new Metadata();
    md.set("authorization", `Bearer ${ADMIN_KEY}`);
    return md;
  };

  /** A method with one request of random field values. */
  const requestFor = (methods: readonly Method[]) =>
    fc.constantFrom(...methods).chain((m) => fc.tuple(fc.constant(m), messageArbitrary(m.requestType)));

  const check = async (m: Method, requests: readonly object[]) => {
    const bodies = requests.map((r) => encodeMessage(m.requestType, r));
    expectSpecific(await callRaw(raw, m, bodies, { metadata: metadata() }), { method: m.path, requests });
  };

  it.each([
    ["unary methods", METHODS.filter((m) => !m.requestStream && !m.responseStream), 400],
    ["EventStream, Subscribe and Health/Watch", METHODS.filter((m) => !m.requestStream && m.responseStream), 200],
  ] as const)("%s answer any field values with a specific code", async (what, methods, runs) => {
    await fc.assert(
      fc.asyncProperty(requestFor(methods), ([m, request]) => check(m, [request])),
      fuzzParams(`fields, ${what}`, runs),
    );
    await expectStillServing(t);
  });

  it("plausible requests with hostile values in some fields reach the handlers' deeper checks", async () => {
    // Mostly valid values, so a request gets past the first check and the odd value meets the later ones.
    const mostly = <T>(valid: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) =>
      fc.oneof({ arbitrary: valid, weight: 3 }, { arbitrary: odd, weight: 1 });
    const cursor = mostly(
      fc.constantFrom("0-1", realCursor, deadLetter, realCursor.replace(/\.[^.]*$/, ".0"), realCursor.replace(/-(\d+)\./, "-99."), "1-0.x"),
      cursorString,
    );
    const routingKey = mostly(fc.constantFrom("fuzz.deep", "a", "a.b-c_d.e", "x".repeat(255)), fieldString);
    const kref = mostly(fc.constantFrom("kref://fuzz/deep.model", "kref://a/b.c?r=1", `kref://${"k".repeat(1010)}`), fieldString);
    const filters = {
      routingKeyFilter: mostly(fc.constantFrom("", "*", "fuzz.*", "fuzz.#", "a.*.c", "**"), globString),
      krefFilter: mostly(fc.constantFrom("", "kref://**", "kref://fuzz/*", "kref://fuzz/**"), globString),
    };
    const group = mostly(fc.constantFrom("fuzz-a", "fuzz-b", "g.1"), fieldString);
    const ids = fc.array(cursor, { maxLength: 5 });
    /** Any values for `type`, with `present` always set (the others may be absent). */
    const withFields = (
      type: string,
      present: Record<string, fc.Arbitrary<unknown>>,
      optional: Record<string, fc.Arbitrary<unknown>> = {},
    ) => fc.tuple(messageArbitrary(type, fieldString, optional), fc.record(present)).map(([any, set]) => ({ ...any, ...set }));
    const publish = () => withFields("streamgate.v1.PublishRequest", { routingKey, kref: fc.record({ uri: kref }) });
    const plausible: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
      "kumiho.EventStreamRequest": withFields("kumiho.EventStreamRequest", filters, {
        cursor,
        fromCursor: cursor,
        fromTimestamp: mostly(fc.constantFrom("2020-01-01T00:00:00Z", new Date().toISOString()), timestampString),
        consumerGroup: mostly(fc.constantFrom(""), group),
      }),
      "streamgate.v1.PublishRequest": publish(),
      "streamgate.v1.PublishBatchRequest": fc.record({ events: fc.array(publish(), { minLength: 1, maxLength: 5 }) }),
      "streamgate.v1.DescribeGroupRequest": fc.record({ group }),
      "streamgate.v1.ListDeadLettersRequest": withFields("streamgate.v1.ListDeadLettersRequest", { group }, { after: cursor }),
      "streamgate.v1.ReplayDeadLettersRequest": fc.record({ group, ids }),
      "streamgate.v1.PurgeDeadLettersRequest": fc.record({ group, ids }),
    };
    const methods = METHODS.filter((m) => !m.requestStream && plausible[m.requestType]);
    const request = fc.constantFrom(...methods).chain((m) => fc.tuple(fc.constant(m), plausible[m.requestType] as fc.Arbitrary<object>));
    await fc.assert(
      fc.asyncProperty(request, ([m, req]) => check(m, [req])),
      fuzzParams("fields, plausible requests", 400),
    );
    await expectStillServing(t);
  });

  it("Consume answers any sequence of joins, acks and nacks with a specific code", async () => {
    const consume = method("streamgate.v1.ConsumerGroups/Consume");
    // Mostly a join first (with plausible or random fields), so acks and nacks reach a member.
    const plausibleJoin = fc.record({
      group: fc.oneof(fc.constantFrom("fuzz-a", "fuzz-b"), fieldString),
      routingKeyFilter: fc.constantFrom("", "*", "fuzz.#", "**"),
      fromBeginning: fc.boolean(),
      maxInFlight: fc.nat({ max: 50 }),
      ackTimeoutMs: fc.constantFrom(0, 1, 100, 60_000),
    });
    const first = fc.oneof(
      { arbitrary: plausibleJoin.map((join) => ({ join })), weight: 3 },
      { arbitrary: messageArbitrary("streamgate.v1.ConsumeRequest"), weight: 1 },
    );
    const ids = fc.oneof(
      { arbitrary: fc.array(fc.oneof(fieldString, fc.constantFrom("0-1", "1-1.x", "99999999999999-0")), { maxLength: 20 }), weight: 20 },
      // Around the per-message limit (100,000 ids); 160,000 once crashed the process (issue #12).
      {
        arbitrary: fc.constantFrom(100_000, 100_001, 160_000, 250_000).map((n) => Array.from({ length: n }, (_, i) => `${i + 1}-0`)),
        weight: 1,
      },
    );
    const later = fc.oneof(
      ids.map((deliveryIds) => ({ ack: { deliveryIds } })),
      fc.tuple(ids, fieldString).map(([deliveryIds, error]) => ({ nack: { deliveryIds, error } })),
      messageArbitrary("streamgate.v1.ConsumeRequest"),
    );
    await fc.assert(
      fc.asyncProperty(fc.tuple(first, fc.array(later, { maxLength: 4 })), ([join, rest]) => check(consume, [join, ...rest])),
      fuzzParams("fields, Consume sequences", 120),
    );
    await expectStillServing(t);
  });
});
