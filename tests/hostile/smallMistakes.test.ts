// The smaller findings of the hostile-input review: each is refused with a
// specific code and a message saying what to change, instead of being read
// some other way than the caller meant.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "../../client-sdk/src/index.js";
import { compareIds } from "../../server/redis/streamIds.js";
import { startTestServer, type TestServer } from "../helpers.js";

describe("small mistakes", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ groupMaxMembersPerTenant: 2 });
  });
  afterAll(async () => {
    await t.close();
  });

  it.each([
    "1700000000000-00",
    "01700000000000-0",
    "1700000000000-0.",
    "1700000000000-0.ABC",
  ])("a cursor not in canonical form (%s) is INVALID_ARGUMENT", async (cursor) => {
    const closed = await t.client.eventStream({ cursor, resume: false }).closed;
    expect(closed?.code).toBe(Code.INVALID_ARGUMENT);
    expect(closed?.message).toMatch(/is malformed: pass the cursor of an event this server sent, unchanged/);
  });

  it("stream IDs compare by number: 2-10 comes after 2-9", () => {
    expect(compareIds("2-10", "2-9")).toBeGreaterThan(0);
    expect(compareIds("10-0", "9-99")).toBeGreaterThan(0);
  });

  it.each([
    ["2026-02-30", /has day 30; 2026-02 has 28 days/],
    ["2026-02-01T24:00:00Z", /time of day out of range/],
    ["2026-13-01", /has month 13/],
    ["2026-01-01T12:00:00+25:00", /zone offset out of range/],
    ["1969-12-31T23:59:59Z", /before 1970/],
  ])("from_timestamp %s is INVALID_ARGUMENT, not read as another time", async (fromTimestamp, message) => {
    const closed = await t.client.eventStream({ fromTimestamp, resume: false }).closed;
    expect(closed?.code).toBe(Code.INVALID_ARGUMENT);
    expect(closed?.message).toMatch(message);
  });

  it("a tenant past its share of consumer-group members gets RESOURCE_EXHAUSTED naming the per-tenant limit", async () => {
    const members = [1, 2].map((n) => t.client.consume({ group: "share", member: `m${n}` }));
    await Promise.all(members.map((m) => m.joined));
    const third = t.client.consume({ group: "share", member: "m3" });
    const loop = (async () => {
      for await (const _ of third);
    })().catch((err: unknown) => err);
    const err = (await loop) as { code: number; message: string };
    expect(err.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(err.message).toMatch(
      /tenant default already has 2 consumer-group members on this server, its limit \(STREAMGATE_GROUP_MAX_MEMBERS_PER_TENANT\)/,
    );
    for (const m of members) m.close();
  });
});
