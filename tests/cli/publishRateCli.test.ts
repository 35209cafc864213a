// `streamgate publish` on a tier with a publish rate: it splits batches larger than
// the burst and waits as the server says, instead of failing a bulk load.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers.js";
import { keyStoreOf, tierSpec, tiersFile } from "../tenancyHelpers.js";
import { runCli } from "./runCli.js";

let t: TestServer;
let token: string;

beforeAll(async () => {
  const tiers = tiersFile({ metered: tierSpec({ publishRatePerSecond: 40, publishBurst: 5 }) });
  t = await startTestServer({ auth: "keys", tiersFile: tiers });
  token = (await keyStoreOf(t).create({ tenant: "bulk", tier: "metered" })).token;
});

afterAll(async () => {
  await t.close();
});

describe("streamgate publish under a publish rate", () => {
  it("publishes every line of a bulk load larger than the burst, in order", async () => {
    const input = Array.from({ length: 30 }, (_, i) =>
      JSON.stringify({ routingKey: "bulk.item", kref: `kref://p/s/i${i}.k`, details: { i: String(i) } }),
    ).join("\n");
    const r = await runCli(["publish", "--batch-size", "20", "--token", token], { STREAMGATE_ADDRESS: t.app.address }, `${input}\n`);
    expect(r.stderr).toMatch(/published 30 events/);
    expect(r.code).toBe(0);
    const stored = (await t.redis.xrange(`${t.config.keyPrefix}:{bulk}:events`, "-", "+")) as [string, string[]][];
    expect(stored.map(([, f]) => JSON.parse(f[f.indexOf("details") + 1] as string).i)).toEqual(
      Array.from({ length: 30 }, (_, i) => String(i)),
    );
  });
});
