// STREAMGATE_AUTH=keys on the group admin RPCs of streamgate.v1.ConsumerGroups:
// no token is UNAUTHENTICATED, a valid key with `x-tenant-id` naming another
// tenant is PERMISSION_DENIED, and neither reaches the named tenant's groups.
import { type Client, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StreamgateClient } from "../client-sdk/src/index.js";
import { startTestServer, type TestServer } from "./helpers.js";
import { clientFor, deadLetterOne, expectCode, md, rawClients, unary } from "./tenancyHelpers.js";

/** Every unary admin RPC of the ConsumerGroups service, with a request naming group "work". */
const ADMIN_CALLS: [method: string, req: Record<string, unknown>][] = [
  ["ListGroups", {}],
  ["DescribeGroup", { group: "work" }],
  ["ListDeadLetters", { group: "work" }],
  ["ReplayDeadLetters", { group: "work" }],
  ["PurgeDeadLetters", { group: "work" }],
];

describe("group admin RPCs with API keys", () => {
  let t: TestServer;
  let raws: ReturnType<typeof rawClients>;
  let raw: Client;
  let globex: StreamgateClient;
  let globexToken: string;
  let acmeToken: string;

  /** globex's group "work" as globex sees it. */
  const globexWork = async () => {
    const info = await globex.groups.describe("work");
    return { pending: info.pending, deadLetters: info.deadLetters, ids: (await globex.groups.deadLetters("work")).map((d) => d.id) };
  };

  beforeAll(async () => {
    t = await startTestServer({ auth: "keys" });
    raws = rawClients(t.app.address);
    raw = raws.groups;
    ({ client: globex, token: globexToken } = await clientFor(t, "globex", "enterprise"));
    ({ token: acmeToken } = await clientFor(t, "acme", "enterprise"));
    // globex's group "work" holds one dead letter, which replay or purge would move or delete.
    await deadLetterOne(globex, "work", "broken");
  });
  afterAll(async () => {
    raws.close();
    globex.close();
    await t.close();
  });

  it("refuses each of them without credentials with UNAUTHENTICATED, and changes nothing", async () => {
    const before = await globexWork();
    expect(before).toMatchObject({ pending: 0, deadLetters: 1 });
    for (const [method, req] of ADMIN_CALLS) {
      await expectCode(unary(raw, method, req, md()), status.UNAUTHENTICATED, /missing credentials/);
      await expectCode(unary(raw, method, req, md(undefined, { "x-tenant-id": "globex" })), status.UNAUTHENTICATED);
    }
    expect(await globexWork()).toEqual(before);
  });

  it("refuses each of them for a valid key whose x-tenant-id names another tenant with PERMISSION_DENIED", async () => {
    const before = await globexWork();
    const other = md(acmeToken, { "x-tenant-id": "globex" });
    for (const [method, req] of ADMIN_CALLS) {
      await expectCode(unary(raw, method, req, other), status.PERMISSION_DENIED, /x-tenant-id "globex".*acme/);
    }
    expect(await globexWork()).toEqual(before);
  });

  it("answers the same calls for a key whose x-tenant-id names its own tenant", async () => {
    const own = md(globexToken, { "x-tenant-id": "globex" });
    const listed = await unary<{ groups: { group: string }[] }>(raw, "ListGroups", {}, own);
    expect(listed.groups.map((g) => g.group)).toEqual(["work"]);
    expect(await unary(raw, "DescribeGroup", { group: "work" }, own)).toMatchObject({ group: "work", deadLetters: "1" });
    const dead = await unary<{ deadLetters: { id: string }[] }>(raw, "ListDeadLetters", { group: "work" }, own);
    expect(dead.deadLetters).toHaveLength(1);
    expect(await unary(raw, "PurgeDeadLetters", { group: "work" }, own)).toEqual({ purged: 1 });
    expect((await globexWork()).deadLetters).toBe(0);
  });
});
