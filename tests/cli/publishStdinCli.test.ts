// `streamgate publish` reading a pipe that stays open (a live producer, or
// `streamgate tail --json`): what it has read goes out within --linger-ms instead
// of after a full batch, Ctrl-C publishes what was read before it exits, and the
// idempotency keys it derives make publishing the same lines again harmless.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Event } from "../../client-sdk/src/index.js";
import { startTestServer, type TestServer, take } from "../helpers.js";
import { runCli, startCli } from "./runCli.js";
import { storedEvents, streamKey } from "./storedEvents.js";

let t: TestServer;
let env: Record<string, string>;

beforeAll(async () => {
  t = await startTestServer();
  env = { STREAMGATE_ADDRESS: t.app.address };
});
afterAll(async () => {
  await t.close();
});

const jsonLine = (i: number, routingKey: string) =>
  JSON.stringify({ routingKey, kref: `kref://film/shots/sh${i}.model?r=1`, author: "producer", details: { i: String(i) } });

/** `promise`, or a rejection naming `what` after `ms`. */
function within<T>(promise: Promise<T>, what: string, ms = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const numbers = (events: Event[]) => events.map((e) => e.details.i);

describe("publish from a pipe that stays open", () => {
  it("publishes the lines it has read while stdin is still open, without waiting for a full batch", async () => {
    const sub = t.client.eventStream({ routingKeyFilter: "live.pipe" });
    await sub.ready;
    const pub = startCli(["publish"], env);
    try {
      pub.child.stdin?.write(`${[1, 2, 3].map((i) => jsonLine(i, "live.pipe")).join("\n")}\n`);
      const iterator = sub[Symbol.asyncIterator]();
      const next = async () => (await iterator.next()).value as Event;
      const first = await within(Promise.all([next(), next(), next()]), "the first three events");
      expect(numbers(first)).toEqual(["1", "2", "3"]);
      expect(pub.child.exitCode).toBeNull(); // still reading its open stdin
      // And it goes on doing so: a line written later is published on its own too.
      pub.child.stdin?.write(`${jsonLine(4, "live.pipe")}\n`);
      expect(numbers([await within(next(), "the fourth event")])).toEqual(["4"]);
      expect(pub.child.exitCode).toBeNull();
      pub.child.stdin?.end();
      const r = await pub.done;
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/^streamgate publish: published 4 events in /);
    } finally {
      sub.close();
      pub.child.kill("SIGKILL");
    }
  });

  it("on Ctrl-C publishes every line read before it, then exits 130", async () => {
    const sub = t.client.eventStream({ routingKeyFilter: "ctrlc.flush" });
    await sub.ready;
    // A linger longer than the test: only a full batch, or the Ctrl-C, sends anything.
    const pub = startCli(["publish", "--batch-size", "2", "--linger-ms", "600000"], env);
    try {
      // One write of three lines (under PIPE_BUF, so it arrives whole): once the first two are published as a
      // full batch, the third has been read too, and is left waiting for a batch that will not fill.
      pub.child.stdin?.write(`${[1, 2, 3].map((i) => jsonLine(i, "ctrlc.flush")).join("\n")}\n`);
      expect(numbers(await within(take(sub, 2), "the full batch"))).toEqual(["1", "2"]);
      pub.child.kill("SIGINT");
      const r = await pub.done;
      expect(r.code).toBe(130);
      expect(r.stderr).toMatch(/^streamgate publish: published 3 events in .*; interrupted\n$/);
      const replay = t.client.eventStream({ routingKeyFilter: "ctrlc.flush", fromBeginning: true });
      expect(numbers(await within(take(replay, 3), "the replay"))).toEqual(["1", "2", "3"]);
      expect((await storedEvents(t)).filter((e) => e.routingKey === "ctrlc.flush")).toHaveLength(3);
    } finally {
      sub.close();
      pub.child.kill("SIGKILL");
    }
  });
});

describe("publish's idempotency keys", () => {
  let dst: TestServer;
  beforeAll(async () => {
    dst = await startTestServer();
  });
  afterAll(async () => {
    await dst.close();
  });
  const dstEnv = () => ({ STREAMGATE_ADDRESS: dst.app.address });
  const stored = async (routingKey: string) => (await storedEvents(dst)).filter((e) => e.routingKey === routingKey);

  it("publishing `tail --json` lines again stores nothing new: each line's key is derived from its cursor", async () => {
    await t.client.publishBatch([1, 2, 3].map((i) => JSON.parse(jsonLine(i, "tail.again"))));
    const tail = await runCli(["tail", "--json", "--from-beginning", "-r", "tail.again", "-n", "3", "-q"], env);
    expect(tail.code).toBe(0);
    const first = await runCli(["publish"], dstEnv(), tail.stdout);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/published 3 events/);
    const once = await stored("tail.again");
    expect(once.map((e) => e.details.i)).toEqual(["1", "2", "3"]);
    const length = await dst.redis.xlen(streamKey(dst));

    // The same lines again (as after a restarted pipe), in other batches: the destination keeps what it has.
    const second = await runCli(["publish", "--batch-size", "2"], dstEnv(), tail.stdout);
    expect(second.code).toBe(0);
    expect(await stored("tail.again")).toEqual(once);
    expect(await dst.redis.xlen(streamKey(dst))).toBe(length);
  });

  it("different events made from one source line (same cursor) are all stored, each once", async () => {
    // A transform that emits two events per source event: both carry the source's cursor.
    const made = [1, 2].map((i) => JSON.stringify({ ...JSON.parse(jsonLine(i, "same.cursor")), cursor: "1700000000000-0.0a1b2c3d" }));
    for (let run = 0; run < 2; run++) expect((await runCli(["publish"], dstEnv(), `${made.join("\n")}\n`)).code).toBe(0);
    expect((await stored("same.cursor")).map((e) => e.details.i)).toEqual(["1", "2"]);
  });

  it("a line's own idempotencyKey wins over its cursor; lines with neither are new events on every run", async () => {
    const keyed = [1, 2].map((i) => JSON.stringify({ ...JSON.parse(jsonLine(i, "own.key")), idempotencyKey: `order-${i}`, cursor: "1-0" }));
    const plain = [1, 2].map((i) => jsonLine(i, "no.key"));
    for (let run = 0; run < 2; run++) {
      const r = await runCli(["publish"], dstEnv(), `${[...keyed, ...plain].join("\n")}\n`);
      expect(r.code).toBe(0);
    }
    expect((await stored("own.key")).map((e) => e.details.i)).toEqual(["1", "2"]);
    expect((await stored("no.key")).map((e) => e.details.i)).toEqual(["1", "2", "1", "2"]);
  });

  it("an idempotencyKey the server refuses is a refused line: exit 6, the lines before it published", async () => {
    const lines = [
      jsonLine(1, "bad.key"),
      JSON.stringify({ ...JSON.parse(jsonLine(2, "bad.key")), idempotencyKey: "k".repeat(300) }),
      jsonLine(3, "bad.key"),
    ];
    const r = await runCli(["publish"], dstEnv(), lines.join("\n"));
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/line 2: idempotency_key is 300 bytes; the limit is 256 \(refused by the server;/);
    expect((await stored("bad.key")).map((e) => e.details.i)).toEqual(["1"]);
  });
});
