// The `streamgate` CLI run as a user would: spawned processes against a real
// in-process server over real Redis.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../client-sdk/src/index.js";
import { commands } from "../../server/cli/commands/index.js";
import { freePort } from "../../server/redis/localRedis.js";
import type { Tier } from "../../server/tenancy/tiers.js";
import { startRestartableServer, startTestServer, type TestServer, take, waitFor } from "../helpers.js";
import { runCli, runInProcess, startCli } from "./runCli.js";

let t: TestServer;
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  t = await startTestServer();
  env = { STREAMGATE_ADDRESS: t.app.address };
  dir = mkdtempSync(join(tmpdir(), "streamgate-cli-"));
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

const jsonLine = (i: number, routingKey: string) =>
  JSON.stringify({ routingKey, kref: `kref://film/shots/sh${i}.model?r=1`, author: "loader", details: { i: String(i) } });

/** An error is one line on stderr: no stack trace. */
function expectOneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe("streamgate --help", () => {
  it("the root help lists every command and the exit codes; a command's help has usage, options and examples", async () => {
    const [root, tail] = await Promise.all([runCli(["--help"]), runCli(["tail", "--help"])]);
    expect(root.code).toBe(0);
    for (const c of commands) expect(root.stdout).toContain(`  ${c.name} `);
    expect(root.stdout).toMatch(/Exit codes:[\s\S]*130/);
    expect(tail.code).toBe(0);
    expect(tail.stdout).toMatch(/^Usage: streamgate tail \[options\]/);
    expect(tail.stdout).toContain("--cursor-file <path>");
    expect(tail.stdout).toMatch(/Examples:\n {2}streamgate tail/);
    expect(tail.stderr).toBe("");
  });

  it.each(
    commands.map((c) => c.name),
  )("streamgate %s --help exits 0 with usage and examples (so does streamgate help <command>)", async (name) => {
    for (const args of [
      [name, "--help"],
      ["help", name],
    ]) {
      const r = await runInProcess(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: streamgate ${name}`);
      expect(r.stdout).toMatch(new RegExp(`Examples:\\n {2}(\\S+=\\S+ )?streamgate ${name}`));
    }
  });
});

describe("bad command lines exit 2 with one clear line", () => {
  it("as spawned processes: unknown command, unknown option, no command", async () => {
    const [unknown, option, none] = await Promise.all([runCli(["frob"], env), runCli(["tail", "--bogus"], env), runCli([], env)]);
    expect(unknown.code).toBe(2);
    expectOneLineError(unknown.stderr, /^streamgate: unknown command "frob"; commands: serve, tail, publish, caps, health, groups, keys/);
    expect(option.code).toBe(2);
    expectOneLineError(option.stderr, /^streamgate tail: unknown option --bogus \(see streamgate tail --help\)$/);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("Usage: streamgate <command>");
  });

  it.each([
    [["tail", "--count", "many"], /--count must be a positive integer/],
    [["tail", "--cursor", "1-0", "--from-beginning"], /at most one of --cursor, --from-beginning and --from-timestamp/],
    [["tail", "--from-timestamp", "yesterday"], /--from-timestamp must be an ISO-8601 time/],
    [["tail", "--cursor"], /option '-c, --cursor <value>' argument missing/],
    [["caps", "--address", "no-port"], /--address must be host:port/],
    [["publish", "--routing-key", "item.created"], /needs both --routing-key and --kref/],
    [["publish", "-r", "a.b", "-k", "kref://p/s/a.b", "-d", "novalue"], /--detail must be key=value/],
    [["publish", "--batch-size", "0"], /--batch-size must be a positive integer/],
    [["health", "stray"], /unexpected argument stray/],
  ])("streamgate %j", async (args, pattern) => {
    const r = await runInProcess(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expectOneLineError(r.stderr, pattern);
  });

  it("STREAMGATE_ADDRESS that is not host:port is named in the error", async () => {
    const r = await runInProcess(["caps"], { STREAMGATE_ADDRESS: "localhost" });
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /STREAMGATE_ADDRESS must be host:port/);
  });
});

describe("publish and tail", () => {
  it("publish reads JSON lines from stdin in batches; tail --json prints exactly those events, one object per line", async () => {
    const input = `${[1, 2, 3, 4, 5].map((i) => jsonLine(i, "bulk.loaded")).join("\n")}\n\n`;
    const pub = await runCli(["publish", "--batch-size", "2"], env, input);
    expect(pub.code).toBe(0);
    expect(pub.stdout).toBe("");
    expect(pub.stderr).toMatch(/^streamgate publish: published 5 events in [\d.]+ s \([\d,]+ events\/s\)\n$/);

    const tail = await runCli(["tail", "--json", "--from-beginning", "-r", "bulk.*", "-n", "5"], env);
    expect(tail.code).toBe(0);
    const lines = tail.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(5);
    const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => (e.details as Record<string, string>).i)).toEqual(["1", "2", "3", "4", "5"]);
    expect(events[0]).toMatchObject({
      routingKey: "bulk.loaded",
      kref: "kref://film/shots/sh1.model?r=1",
      author: "loader",
      tenantId: "default",
    });
    expect(events[0]?.cursor).toMatch(/^\d+-\d+$/);
    // Banners and the summary go to stderr.
    expect(tail.stderr).toMatch(/following .* from the beginning/);
    expect(tail.stderr).toMatch(/5 events/);
  });

  it("publish with flags prints the new event's cursor", async () => {
    const sub = t.client.eventStream({ routingKeyFilter: "flag.published" });
    await sub.ready;
    const r = await runCli(["publish", "-r", "flag.published", "-k", "kref://p/s/a.model", "-d", "k=v", "--correlation-id", "c1"], env);
    expect(r.code).toBe(0);
    const [e] = await take(sub, 1);
    expect(r.stdout).toBe(`${e?.cursor}\n`);
    expect(e?.details).toEqual({ k: "v", correlation_id: "c1" });
  });

  it("tail --cursor-file continues where the previous run stopped, and the file holds the last printed cursor", async () => {
    const cursors = await t.client.publishBatch([1, 2, 3, 4].map((i) => JSON.parse(jsonLine(i, "resume.me"))));
    const file = join(dir, "resume.cursor");
    const args = ["tail", "--json", "--from-beginning", "-r", "resume.me", "-n", "2", "--cursor-file", file];
    const first = await runCli(args, env);
    expect(first.code).toBe(0);
    expect(
      first.stdout
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l).cursor),
    ).toEqual(cursors.slice(0, 2));
    expect(readFileSync(file, "utf8").trim()).toBe(cursors[1]);

    const second = await runCli(args, env);
    expect(second.code).toBe(0);
    expect(
      second.stdout
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l).cursor),
    ).toEqual(cursors.slice(2, 4));
    expect(readFileSync(file, "utf8").trim()).toBe(cursors[3]);
    expect(second.stderr).toContain(`after cursor ${cursors[1]}`);
  });

  it("on Ctrl-C, tail exits 0 and the cursor file holds the last printed event's cursor", async () => {
    const file = join(dir, "interrupt.cursor");
    const tail = startCli(["tail", "--json", "-r", "ctrl.c", "--cursor-file", file], env);
    await waitFor(() => tail.stderr.includes("following"), "the tail to be live");
    const cursors = await t.client.publishBatch([1, 2, 3].map((i) => JSON.parse(jsonLine(i, "ctrl.c"))));
    await waitFor(() => tail.stdout.split("\n").length > 3, "three printed events");
    tail.child.kill("SIGINT");
    const r = await tail.done;
    expect(r.code).toBe(0);
    const printed = r.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l).cursor);
    expect(printed).toEqual(cursors);
    expect(readFileSync(file, "utf8").trim()).toBe(cursors[2]);
    await waitFor(() => t.app.hub.subscriberCount === 0, "the server to drop the tail's subscription");
  });

  it("a stdin line that is not an event exits 6 naming the line; the lines before it are published", async () => {
    const input = [
      jsonLine(1, "partial.load"),
      jsonLine(2, "partial.load"),
      '{"routingKey": "partial.load"}',
      jsonLine(4, "partial.load"),
    ].join("\n");
    const r = await runCli(["publish"], env, input);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/published 2 events/);
    expect(r.stderr).toMatch(/line 3: "kref" is required/);
    const tail = await runCli(["tail", "--json", "--from-beginning", "-r", "partial.load", "-n", "2", "-q"], env);
    expect(
      tail.stdout
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l).details.i),
    ).toEqual(["1", "2"]);
  });

  it("an event the server refuses exits 4 with the server's reason and the input line", async () => {
    const input = [jsonLine(1, "refused.batch"), jsonLine(2, "Not A Routing Key")].join("\n");
    const r = await runCli(["publish"], env, input);
    expect(r.code).toBe(4);
    expectOneLineError(r.stderr, /^streamgate publish: INVALID_ARGUMENT: line 2: routing_key "Not A Routing Key" must be/);
  });
});

describe("tail across a server restart", () => {
  it("reports the outage on stderr and prints every event exactly once", async () => {
    const server = await startRestartableServer();
    const client = createClient({ address: server.address });
    try {
      const tail = startCli(["tail", "--json", "-r", "outage.*"], { STREAMGATE_ADDRESS: server.address });
      await waitFor(() => tail.stderr.includes("following"), "the tail to be live");
      const before = await client.publish({ routingKey: "outage.before", kref: "kref://p/s/a.model" });
      await waitFor(() => tail.stdout.includes(before), "the first event");
      await server.stop();
      await server.start();
      await waitFor(() => tail.stderr.includes("reconnected after"), "the tail to reconnect");
      const after = await client.publish({ routingKey: "outage.after", kref: "kref://p/s/a.model" });
      await waitFor(() => tail.stdout.includes(after), "the event after the restart");
      tail.child.kill("SIGINT");
      const r = await tail.done;
      expect(r.code).toBe(0);
      expect(
        r.stdout
          .trimEnd()
          .split("\n")
          .map((l) => JSON.parse(l).cursor),
      ).toEqual([before, after]);
      expect(r.stderr).toMatch(/stream lost \(UNAVAILABLE: server is shutting down/);
    } finally {
      client.close();
      await server.stop();
    }
  });
});

describe("caps and health", () => {
  it("caps --json prints the tier's capabilities", async () => {
    const r = await runCli(["caps", "--json"], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      supportsReplay: true,
      supportsCursor: true,
      supportsConsumerGroups: true,
      maxRetentionHours: 720,
      maxBufferSize: -1,
      tier: "enterprise",
    });
  });

  it("health exits 0 for a serving server and 3 when nothing answers; other commands exit 3 too", async () => {
    const up = await runCli(["health"], env);
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/^SERVING 127\.0\.0\.1:\d+ \(answered in \d+ ms\)/);
    const nowhere = `127.0.0.1:${await freePort()}`;
    const down = await runCli(["health", "-t", "2000"], { STREAMGATE_ADDRESS: nowhere });
    expect(down.code).toBe(3);
    expect(down.stdout).toMatch(/^NOT SERVING /);
    const tail = await runCli(["tail", "--max-attempts", "0", "-a", nowhere], env);
    expect(tail.code).toBe(3);
    expectOneLineError(tail.stderr, /^streamgate tail: cannot reach the server at 127\.0\.0\.1:\d+ \(UNAVAILABLE\)/);
  });

  it("a token the server refuses exits 5", async () => {
    const { StreamgateError } = await import("../../server/errors.js");
    const { defaultTiers } = await import("../../server/tenancy/tiers.js");
    const guarded = await startTestServer({}, (md) => {
      if (md.get("authorization")[0] !== "Bearer right") throw new StreamgateError(16, "unknown API key");
      return { tenantId: "t", tier: defaultTiers.enterprise as Tier };
    });
    try {
      const denied = await runCli(["caps", "--token", "wrong"], { STREAMGATE_ADDRESS: guarded.app.address });
      expect(denied.code).toBe(5);
      expectOneLineError(denied.stderr, /^streamgate caps: UNAUTHENTICATED: unknown API key$/);
      const allowed = await runCli(["caps", "--json"], { STREAMGATE_ADDRESS: guarded.app.address, STREAMGATE_TOKEN: "right" });
      expect(allowed.code).toBe(0);
    } finally {
      await guarded.close();
    }
  });
});

describe("file input", () => {
  it("publish reads a file redirected to stdin", async () => {
    const file = join(dir, "events.jsonl");
    writeFileSync(file, `${[1, 2, 3].map((i) => jsonLine(i, "file.input")).join("\n")}\n`);
    const r = await runCli(["publish"], env, readFileSync(file, "utf8"));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/published 3 events/);
  });
});
