// `streamgate groups` run as a user would, against a real server with a real dead letter.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { event, startTestServer, type TestServer, waitFor } from "../helpers.js";
import { runCli } from "./runCli.js";

let t: TestServer;
let env: Record<string, string>;
let poison: string;

beforeAll(async () => {
  t = await startTestServer();
  env = { STREAMGATE_ADDRESS: t.app.address };
  // A group whose only member fails every delivery, so the event lands in the dead-letter stream.
  const consumer = t.client.consume({ group: "thumbs", routingKeyFilter: "job.*", maxDeliveries: 2, ackTimeoutMs: 200 });
  await consumer.joined;
  const loop = (async () => {
    for await (const d of consumer) d.nack("renderer crashed");
  })();
  [poison] = (await t.client.publishBatch([event(1, "job.render")])) as [string];
  await waitFor(async () => (await t.client.groups.describe("thumbs")).deadLetters === 1, "the dead letter", 15_000);
  consumer.close();
  await loop;
});

afterAll(async () => {
  await t.close();
});

describe("streamgate groups", () => {
  it("lists and describes groups", async () => {
    const list = await runCli(["groups", "list"], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^thumbs\s+pending\s+0\s+lag\s+0\s+dead\s+1/m);
    const described = await runCli(["groups", "describe", "thumbs", "--json"], env);
    expect(described.code).toBe(0);
    expect(JSON.parse(described.stdout)).toMatchObject({ group: "thumbs", routingKeyFilter: "job.*", maxDeliveries: 2, deadLetters: 1 });
  });

  it("shows dead letters with their reason and error, replays them, and purges", async () => {
    const dead = await runCli(["groups", "dead-letters", "thumbs", "--json"], env);
    expect(dead.code).toBe(0);
    const [letter] = dead.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { id: string; reason: string; error: string; originalCursor: string });
    expect(letter).toMatchObject({ reason: "max_deliveries_exceeded", error: "renderer crashed", originalCursor: poison });

    const replay = await runCli(["groups", "replay", "thumbs"], env);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toBe("replayed 1 dead letter into thumbs\n");
    expect((await t.client.groups.describe("thumbs")).deadLetters).toBe(0);

    const purgeAll = await runCli(["groups", "purge", "thumbs", "--all", "--json"], env);
    expect(purgeAll.code).toBe(0);
    expect(JSON.parse(purgeAll.stdout)).toEqual({ purged: 0 });
  });

  it("refuses incomplete command lines with exit code 2, and unknown groups with 4", async () => {
    const noAction = await runCli(["groups"], env);
    expect(noAction.code).toBe(2);
    expect(noAction.stderr).toMatch(/expected one of list, describe, dead-letters, replay, purge/);
    const purge = await runCli(["groups", "purge", "thumbs"], env);
    expect(purge.code).toBe(2);
    expect(purge.stderr).toMatch(/purge needs dead-letter ids, or --all/);
    const missing = await runCli(["groups", "describe", "nope"], env);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/no consumer group named "nope"/);
  });
});
