// `streamgate copy` killed with SIGKILL at random moments (no cleanup of any kind:
// mid-batch, mid-write of the cursor file, before it even connected) and started
// again with the same command, as a crashing job under a supervisor would be.
// Promise to the user: every source event ends up in the destination exactly
// once, in order; and at no moment does the cursor file name an event the
// destination does not have (else a restart would skip it for good).
import { existsSync, mkdtempSync, readFileSync, rmSync, watch } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startCli } from "../cli/runCli.js";
import { type StoredEvent, storedEvents, streamKey } from "../cli/storedEvents.js";
import { sleep, startTestServer, type TestServer } from "../helpers.js";

let src: TestServer;
let dst: TestServer;
let dir: string;

beforeEach(async () => {
  [src, dst] = await Promise.all([startTestServer(), startTestServer()]);
  dir = mkdtempSync(join(tmpdir(), "streamgate-copy-kill-"));
});
afterEach(async () => {
  await Promise.all([src.close(), dst.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const ROUTING_KEYS = ["asset.created", "revision.created", "revision.published"];

/** Varied events: routing keys, krefs, authors, usernames (some empty) and details of different sizes. */
function sourceEvent(i: number): StoredEvent {
  return {
    routingKey: ROUTING_KEYS[i % 3] as string,
    kref: `kref://film/seq${i % 7}/sh${i}.model?r=${1 + (i % 4)}`,
    author: `artist${i % 5}`,
    username: i % 2 === 0 ? "" : `user${i}`,
    details: { i: String(i), ...(i % 10 === 0 ? { note: "x".repeat(i) } : {}) },
  };
}

/** Publishes n source events; resolves to them and their cursors. */
async function fillSource(n: number): Promise<{ events: StoredEvent[]; cursors: string[] }> {
  const events = Array.from({ length: n }, (_, i) => sourceEvent(i));
  const cursors: string[] = [];
  for (let i = 0; i < n; i += 100) cursors.push(...(await src.client.publishBatch(events.slice(i, i + 100))));
  return { events, cursors };
}

const savedCursor = (file: string): string | undefined => (existsSync(file) ? readFileSync(file, "utf8").trim() || undefined : undefined);

/**
 * What a kill may leave, checked after each one: the destination holds a prefix of the source, each
 * event once (a batch sent again after a restart was recognised by its keys), and the cursor file
 * names an event within that prefix (never one the destination lacks).
 */
async function expectNoGapNoDuplicate(file: string, source: { events: StoredEvent[]; cursors: string[] }, trace: string[]) {
  const copied = await storedEvents(dst);
  expect(copied, trace.join("; ")).toEqual(source.events.slice(0, copied.length));
  const saved = savedCursor(file);
  if (saved === undefined) return;
  const at = source.cursors.indexOf(saved);
  expect(at, `saved cursor ${saved} is a source event's (${trace.join("; ")})`).toBeGreaterThanOrEqual(0);
  expect(copied.length, `the destination has every event up to the saved cursor (${trace.join("; ")})`).toBeGreaterThan(at);
}

/** Resolves true once `check` holds, false after `ms`; polls every millisecond or so. */
async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await sleep(1);
  }
  return true;
}

const random = (max: number) => Math.floor(Math.random() * max);

describe("streamgate copy interrupted at random points", () => {
  it("killed and restarted with the same command again and again, it copies every source event exactly once, in order", async () => {
    const N = 300;
    const source = await fillSource(N);
    const file = join(dir, "random.cursor");
    const args = ["copy", "--from", src.app.address, "--to", dst.app.address, "--cursor-file", file, "--batch-size", "3"];
    const trace: string[] = [];
    for (let round = 0; round < 8; round++) {
      const before = savedCursor(file);
      const cli = startCli(args);
      const how = round === 0 ? "start" : (["start", "save", "mid-copy"][random(3)] as string);
      if (how === "start") {
        // Anywhere from process start into the copy: loading, connecting, subscribing, the first batches.
        await sleep(random(1200));
      } else {
        // When (or a few ms after) this run's first cursor write lands, or when there is nothing left to copy.
        const copiedAll = async () => (await dst.redis.xlen(streamKey(dst))) >= N;
        await until(async () => savedCursor(file) !== before || (await copiedAll()), 15_000);
        // Batches of 3 take a few ms each, so the copy of all 300 lasts a few hundred ms.
        await sleep(how === "save" ? random(3) : random(300));
      }
      cli.child.kill("SIGKILL");
      const { code } = await cli.done;
      trace.push(`round ${round}: ${how}, exit ${code}, ${await dst.redis.xlen(streamKey(dst))} copied, file ${savedCursor(file) ?? "-"}`);
      await expectNoGapNoDuplicate(file, source, trace);
    }

    // Finally left to run until the destination has everything, then stopped with Ctrl-C (once it is
    // following the source: before that, Ctrl-C is the default, a kill).
    const last = startCli(args);
    const finished = async () => last.stderr.includes("streamgate copy: copying") && (await dst.redis.xlen(streamKey(dst))) >= N;
    expect(await until(finished, 30_000), trace.join("; ")).toBe(true);
    last.child.kill("SIGINT");
    const r = await last.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/copied \d+ events? in .*; cursor saved in /);
    expect(await storedEvents(dst), trace.join("; ")).toEqual(source.events);
    expect(savedCursor(file)).toBe(source.cursors[N - 1]);
  });

  it("the cursor file never runs ahead of the destination: killed the moment it is rewritten, every event up to it is there", async () => {
    const N = 120;
    const source = await fillSource(N);
    const file = join(dir, "ahead.cursor");
    const args = ["copy", "--from", src.app.address, "--to", dst.app.address, "--cursor-file", file, "--batch-size", "20", "-q"];
    const trace: string[] = [];
    for (let round = 0; savedCursor(file) !== source.cursors[N - 1]; round++) {
      expect(round, trace.join("; ")).toBeLessThan(N / 20 + 3); // each run saves at least one batch before it is killed
      const before = savedCursor(file);
      const cli = startCli(args);
      // inotify: the kill follows the rename that made the new cursor the file's within the same tick.
      const watcher = watch(dir, (_, name) => {
        if (name === basename(file) && savedCursor(file) !== before) cli.child.kill("SIGKILL");
      });
      const stuck = setTimeout(() => cli.child.kill("SIGKILL"), 15_000); // no save at all: the round bound above fails the test
      try {
        const { code } = await cli.done;
        trace.push(`round ${round}: exit ${code}, ${await dst.redis.xlen(streamKey(dst))} copied, file ${savedCursor(file) ?? "-"}`);
        expect(code, cli.stderr).toBeNull(); // killed, not ended on its own
      } finally {
        clearTimeout(stuck);
        watcher.close();
      }
      await expectNoGapNoDuplicate(file, source, trace);
    }
    expect(await storedEvents(dst), trace.join("; ")).toEqual(source.events);
  });
});
