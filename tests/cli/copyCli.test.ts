// `streamgate copy` between two real servers (two key prefixes on the test Redis,
// as two deployments or tenants would be), run as a user would.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../server/redis/localRedis.js";
import { startTestServer, type TestServer, waitFor } from "../helpers.js";
import { runCli, runInProcess, startCli } from "./runCli.js";
import { type StoredEvent, storedEvents } from "./storedEvents.js";

let src: TestServer;
let dst: TestServer;
let dir: string;

beforeAll(async () => {
  [src, dst] = await Promise.all([startTestServer(), startTestServer()]);
  dir = mkdtempSync(join(tmpdir(), "streamgate-copy-"));
});
afterAll(async () => {
  await Promise.all([src.close(), dst.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const newEvent = (i: number, routingKey: string, details: Record<string, string> = {}) => ({
  routingKey,
  kref: `kref://film/shots/sh${i}.model?r=${i}`,
  author: "loader",
  username: `user${i % 3}`,
  details: { i: String(i), ...details },
});

/** The events of `server` with this routing key, as stored. */
const stored = async (server: TestServer, routingKey: string): Promise<StoredEvent[]> =>
  (await storedEvents(server)).filter((e) => e.routingKey === routingKey);

const cursorIn = (file: string) => readFileSync(file, "utf8").trim();

describe("streamgate copy: command line", () => {
  it.each([
    [["copy", "--cursor-file", "x.cursor"], /^streamgate copy: --to <host:port> is required: the destination server\n$/],
    [["copy", "--to", "127.0.0.1:1"], /--cursor-file <path> is required: where the last copied cursor is kept/],
    [["copy", "--to", "nowhere", "-f", "x"], /--to must be host:port/],
    [["copy", "--from", "nowhere", "--to", "127.0.0.1:1", "-f", "x"], /--from must be host:port/],
    [["copy", "--to", "127.0.0.1:50051", "-f", "x"], /the source and the destination are the same \(127\.0\.0\.1:50051, same token\)/],
    [["copy", "--to", "127.0.0.1:1", "-f", "x", "--live", "--from-beginning"], /use at most one of --from-beginning and --live/],
    [["copy", "--to", "127.0.0.1:1", "-f", "x", "--linger-ms", "soon"], /--linger-ms must be a number of milliseconds/],
  ])("streamgate %j exits 2 with one line", async (args, pattern) => {
    const r = await runInProcess(args);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
  });

  it("--help states the guarantee and its limit: exactly once when restarted within the duplicate window", async () => {
    const r = await runInProcess(["copy", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /exactly once, as long as the restart comes within the\s+destination's duplicate window \(STREAMGATE_DEDUP_WINDOW_MS/,
    );
    expect(r.stdout).toMatch(/Restarted later than that, that last batch may be stored twice/);
  });
});

describe("streamgate copy", () => {
  it("copies the retained events, then new ones as they come; Ctrl-C sends, saves and exits 0 with a summary", async () => {
    const cursors = await src.client.publishBatch([1, 2, 3, 4, 5].map((i) => newEvent(i, "copy.basic")));
    await src.client.publish(newEvent(99, "copy.other")); // filtered out
    const file = join(dir, "basic.cursor");
    const args = ["copy", "--from", src.app.address, "--to", dst.app.address, "-f", file, "-r", "copy.basic"];
    const cli = startCli(args);
    await waitFor(async () => (await stored(dst, "copy.basic")).length === 5, "the retained events");
    expect(cli.stderr).toMatch(
      /^streamgate copy: copying 127\.0\.0\.1:\d+ to 127\.0\.0\.1:\d+ \(routing key copy\.basic\) from the beginning;/,
    );
    cursors.push(...(await src.client.publishBatch([6, 7].map((i) => newEvent(i, "copy.basic")))));
    await waitFor(async () => (await stored(dst, "copy.basic")).length === 7, "the live events");
    await waitFor(() => existsSync(file) && cursorIn(file) === cursors[6], "the last cursor to be saved");
    cli.child.kill("SIGINT");
    const r = await cli.done;
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(`\\nstreamgate copy: copied 7 events in [\\d.]+ s \\([\\d,]+ events/s\\); cursor saved in ${file}\\n$`),
    );
    // Routing key, kref, author, username and details as in the source; nothing else copied.
    expect(await stored(dst, "copy.basic")).toEqual(await stored(src, "copy.basic"));
    expect(await stored(dst, "copy.other")).toEqual([]);
    expect(cursorIn(file)).toBe(cursors[6]);

    // Restarted, it continues after the saved cursor.
    cursors.push(await src.client.publish(newEvent(8, "copy.basic")));
    const again = await runCli([...args, "-n", "1", "-q"]);
    expect(again).toMatchObject({ code: 0, stderr: "" });
    expect((await stored(dst, "copy.basic")).map((e) => e.details.i)).toEqual(["1", "2", "3", "4", "5", "6", "7", "8"]);
    expect(cursorIn(file)).toBe(cursors[7]);
  });

  it("a batch sent again after a crash between the destination's answer and the cursor save is not stored twice", async () => {
    const cursors = await src.client.publishBatch([1, 2, 3, 4, 5, 6].map((i) => newEvent(i, "copy.resend")));
    const file = join(dir, "resend.cursor");
    const args = ["copy", "--from", src.app.address, "--to", dst.app.address, "-f", file, "-r", "copy.resend", "-q"];
    expect((await runCli([...args, "-n", "6"])).code).toBe(0);
    expect(cursorIn(file)).toBe(cursors[5]);
    // As if killed after the destination stored events 3 to 6 but before their cursor was saved.
    writeFileSync(file, `${cursors[1]}\n`);
    const again = await runCli([...args, "-n", "4", "--batch-size", "3"]);
    expect(again.code).toBe(0);
    expect((await stored(dst, "copy.resend")).map((e) => e.details.i)).toEqual(["1", "2", "3", "4", "5", "6"]);
    expect(cursorIn(file)).toBe(cursors[5]);
  });

  it("--live copies only what is published after it started, and saves its start position at once", async () => {
    await src.client.publish(newEvent(1, "copy.live"));
    const file = join(dir, "live.cursor");
    const args = ["copy", "--from", src.app.address, "--to", dst.app.address, "-f", file, "-r", "copy.live", "--live"];
    const cli = startCli(args);
    await waitFor(() => existsSync(file), "the start position to be saved");
    const start = cursorIn(file);
    const cursor = await src.client.publish(newEvent(2, "copy.live"));
    await waitFor(async () => (await stored(dst, "copy.live")).length === 1, "the new event");
    cli.child.kill("SIGINT");
    expect((await cli.done).code).toBe(0);
    expect((await stored(dst, "copy.live")).map((e) => e.details.i)).toEqual(["2"]);
    expect(cursorIn(file)).toBe(cursor);
    expect(start).not.toBe(cursor);
  });

  it("an event the destination refuses: exit 6 naming its source cursor; the events before it are copied and saved", async () => {
    const strict = await startTestServer({ maxDetails: 2 });
    try {
      const cursors = await src.client.publishBatch([
        newEvent(1, "copy.refused"),
        newEvent(2, "copy.refused", { a: "1", b: "2" }),
        newEvent(3, "copy.refused"),
      ]);
      const file = join(dir, "refused.cursor");
      const r = await runCli(["copy", "--from", src.app.address, "--to", strict.app.address, "-f", file, "-r", "copy.refused", "-q"]);
      expect(r.code).toBe(6);
      const [summary, error, ...rest] = r.stderr.trimEnd().split("\n");
      expect(summary).toMatch(/^streamgate copy: copied 1 event in .*; cursor saved in /);
      expect(error).toBe(
        `streamgate copy: source event ${cursors[1]}: details has 3 entries; the limit is 2 (refused by the destination; ` +
          `nothing from this event on was copied; ${file} holds the cursor of the last event copied)`,
      );
      expect(rest).toEqual([]);
      expect((await stored(strict, "copy.refused")).map((e) => e.details.i)).toEqual(["1"]);
      expect(cursorIn(file)).toBe(cursors[0]);
    } finally {
      await strict.close();
    }
  });

  it("a destination nothing answers on: exit 3 at once, before reading the source; no cursor file written", async () => {
    const file = join(dir, "unreachable.cursor");
    const nowhere = `127.0.0.1:${await freePort()}`;
    const r = await runCli(["copy", "--from", src.app.address, "--to", nowhere, "-f", file]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^streamgate copy: destination: cannot reach the server at 127\.0\.0\.1:\d+ \(UNAVAILABLE\)/);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(existsSync(file)).toBe(false);
  });

  it("a source nothing answers on: exit 3 at once, as tail does", async () => {
    const nowhere = `127.0.0.1:${await freePort()}`;
    const r = await runCli(["copy", "--from", nowhere, "--to", dst.app.address, "-f", join(dir, "nosource.cursor")]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^streamgate copy: source: cannot reach the server at 127\.0\.0\.1:\d+ \(UNAVAILABLE\)/);
  });
});
