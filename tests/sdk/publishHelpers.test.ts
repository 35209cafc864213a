// publish/publishBatch carry correlation and causation ids in details, the way
// rapids' `caused_by` does: the cause's cursor becomes the causation id and its
// correlation id (or, at the root of a chain, its cursor) carries over.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DetailKeys, detailsWithCorrelation } from "../../client-sdk/src/index.js";
import { startTestServer, type TestServer, take } from "../helpers.js";

const kref = "kref://film/shots/sh010.model?r=1";

describe("correlation and causation ids", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it("a chain of caused events shares the root's correlation id, each naming its cause", async () => {
    const sub = t.client.eventStream({ routingKeyFilter: "chain.#" });
    await sub.ready;
    const root = await t.client.publish({ routingKey: "chain.started", kref, details: { step: "1" } });
    const published = [root];
    const events = [];
    // A handler reacting to each event, as a rapids router would.
    for await (const e of sub) {
      events.push(e);
      if (e.routingKey === "chain.started") published.push(await t.client.publish({ routingKey: "chain.next", kref, causedBy: e }));
      else if (e.routingKey === "chain.next") {
        published.push(...(await t.client.publishBatch([{ routingKey: "chain.done", kref, details: { step: "3" }, causedBy: e }])));
      } else break;
    }
    const [, second] = published;
    expect(events.map((e) => e.cursor)).toEqual(published);
    expect(events[0]!.details).toEqual({ step: "1" });
    expect(events[1]!.details).toEqual({ [DetailKeys.causationId]: root, [DetailKeys.correlationId]: root });
    expect(events[2]!.details).toEqual({ step: "3", [DetailKeys.causationId]: second, [DetailKeys.correlationId]: root });
  });

  it("an explicit correlationId is set on every event of a batch", async () => {
    const sub = t.client.eventStream({ routingKeyFilter: "order.*" });
    await sub.ready;
    await t.client.publishBatch([
      { routingKey: "order.placed", kref, correlationId: "req-42" },
      { routingKey: "order.paid", kref, correlationId: "req-42", details: { amount: "10" } },
    ]);
    const events = await take(sub, 2);
    expect(events.map((e) => e.details)).toEqual([{ correlation_id: "req-42" }, { correlation_id: "req-42", amount: "10" }]);
  });
});

describe("detailsWithCorrelation precedence", () => {
  const cause = { cursor: "5-0", details: { correlation_id: "flow-1" } };
  it.each([
    ["nothing set: details unchanged", { details: { a: "1" } }, { a: "1" }],
    ["causedBy: causation = cause's cursor, correlation inherited", { causedBy: cause }, { causation_id: "5-0", correlation_id: "flow-1" }],
    [
      "causedBy at a chain's root: correlation = its cursor",
      { causedBy: { cursor: "7-0", details: {} } },
      { causation_id: "7-0", correlation_id: "7-0" },
    ],
    ["correlationId beats the inherited one", { causedBy: cause, correlationId: "mine" }, { causation_id: "5-0", correlation_id: "mine" }],
    [
      "a correlation_id in details beats the inherited one",
      { causedBy: cause, details: { correlation_id: "d" } },
      { causation_id: "5-0", correlation_id: "d" },
    ],
  ])("%s", (_name, extra, expected) => {
    expect(detailsWithCorrelation({ routingKey: "a.b", kref, ...extra })).toEqual(expected);
  });

  it("rejects a cause without a cursor", () => {
    expect(() => detailsWithCorrelation({ routingKey: "a.b", kref, causedBy: { cursor: "", details: {} } })).toThrow(TypeError);
  });
});
