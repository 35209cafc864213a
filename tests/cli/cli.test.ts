// The `streamgate` CLI run as a user would: spawned processes against a real
// in-process server over real Redis.

import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../client-sdk/src/index.js";
import { commands } from "../../server/cli/commands/index.js";
import { rpcsTotal } from "../../server/observability/metrics.js";
import { tenantKeys } from "../../server/redis/layout.js";
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

  it("bin/streamgate.js, the command users run, starts the CLI", async () => {
    const bin = fileURLToPath(new URL("../../bin/streamgate.js", import.meta.url));
    const r = await new Promise<{ code: number | null; stdout: string }>((resolve) =>
      execFile(process.execPath, [bin, "--version"], (err, stdout) => resolve({ code: err ? (err.code as number) : 0, stdout })),
    );
    expect(r).toEqual({ code: 0, stdout: expect.stringMatching(/^streamgate \d+\.\d+\.\d+\n$/) });
  });

  it("examples use real token shapes and addresses the CLI can reach (plaintext: no TLS option, so no :443)", async () => {
    for (const c of commands) {
      const help = (await runInProcess([c.name, "--help"])).stdout;
      const examples = help.slice(help.indexOf("Examples:"));
      expect(examples, c.name).not.toMatch(/:443\b/);
      for (const token of examples.match(/TOKEN=\S+/g) ?? []) expect(token, c.name).toMatch(/^TOKEN=sg_/);
    }
    expect((await runInProcess(["caps", "--help"])).stdout).toContain(
      "STREAMGATE_TOKEN=sg_... streamgate caps -a streamgate.internal:50051",
    );
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
    expectOneLineError(
      unknown.stderr,
      /^streamgate: unknown command "frob"; commands: serve, tail, publish, copy, caps, health, groups, keys/,
    );
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
    expect(events[0]?.cursor).toMatch(/^\d+-\d+\.[0-9a-f]{8}$/);
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

  it("publish with flags of an event the server refuses exits 6 with one line saying why", async () => {
    const r = await runCli(["publish", "-r", "Not A Key", "-k", "kref://p/s/a.model"], env);
    expect(r.code).toBe(6);
    expect(r.stdout).toBe("");
    expectOneLineError(r.stderr, /^streamgate publish: the server refused the event: routing_key "Not A Key" must be/);
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

  it("an event the server refuses: the lines before it are published, then exit 6 with one line naming it", async () => {
    const input = [jsonLine(1, "refused.first"), jsonLine(2, "Not A Routing Key"), jsonLine(3, "refused.first")].join("\n");
    const r = await runCli(["publish"], env, input);
    expect(r.code).toBe(6);
    const [summary, error, ...rest] = r.stderr.trimEnd().split("\n");
    expect(summary).toMatch(/^streamgate publish: published 1 event in /);
    expect(error).toMatch(
      /^streamgate publish: line 2: routing_key "Not A Routing Key" must be .* \(refused by the server; nothing from this line on was published\)$/,
    );
    expect(rest).toEqual([]);
    const tail = await runCli(["tail", "--json", "--from-beginning", "-r", "refused.first", "-n", "1", "-q"], env);
    expect(JSON.parse(tail.stdout).details).toEqual({ i: "1" });
    // Line 3 was not published: nothing but line 1 carries that routing key.
    const stored = await t.redis.xrange(tenantKeys(t.config.keyPrefix, "default").events, "-", "+");
    expect(stored.filter(([, f]) => f[1] === "refused.first").map(([, f]) => JSON.parse(f[f.indexOf("details") + 1] as string).i)).toEqual([
      "1",
    ]);
  });

  it("a refused event in a later batch: the earlier batches and the events before it in its batch are published", async () => {
    const input = [1, 2, 3].map((i) => jsonLine(i, "refused.later"));
    input.push(JSON.stringify({ routingKey: "refused.later", kref: "kref://film/shots?r=x" }), jsonLine(5, "refused.later"));
    const r = await runCli(["publish", "--batch-size", "2"], env, input.join("\n"));
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/published 3 events/);
    expect(r.stderr).toMatch(/line 4: kref "kref:\/\/film\/shots\?r=x": the revision must be a number/);
    const stored = await t.redis.xrange(tenantKeys(t.config.keyPrefix, "default").events, "-", "+");
    expect(stored.filter(([, f]) => f[1] === "refused.later").map(([, f]) => JSON.parse(f[f.indexOf("details") + 1] as string).i)).toEqual([
      "1",
      "2",
      "3",
    ]);
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

  it("tail against an address nothing answers on fails at once: one line, exit 3, no reconnect attempts", async () => {
    const nowhere = `127.0.0.1:${await freePort()}`;
    const r = await runCli(["tail", "-a", nowhere], env);
    expect(r.code).toBe(3);
    expectOneLineError(
      r.stderr,
      /^streamgate tail: cannot reach the server at 127\.0\.0\.1:\d+ \(UNAVAILABLE\): No connection established\. .*ECONNREFUSED.*\. \(--retry keeps trying\)$/,
    );
    expect(r.stderr).not.toContain("Resolution note");
  });

  it("tail --retry keeps trying at start; its last line after giving up has no empty 'Resolution note'", async () => {
    const nowhere = `127.0.0.1:${await freePort()}`;
    const r = await runCli(["tail", "--retry", "--max-attempts", "2", "-a", nowhere], env);
    expect(r.code).toBe(3);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^streamgate tail: stream lost \(UNAVAILABLE: .*\); reconnecting in \d+ ms$/);
    expect(lines[1]).toMatch(/retrying in \d+ ms \(attempt 2 of 2\)$/);
    expect(lines[2]).toMatch(
      /^streamgate tail: cannot reach the server at .*ECONNREFUSED [\d.:]+\. \(gave up after 2 reconnect attempts\)$/,
    );
    expect(r.stderr).not.toContain("Resolution note");
  });

  it("tail --retry started before its server follows it once it is up", async () => {
    const port = await freePort();
    const tail = startCli(["tail", "--json", "--retry", "-r", "late.server"], { STREAMGATE_ADDRESS: `127.0.0.1:${port}` });
    await waitFor(() => tail.stderr.includes("reconnecting in"), "a failed first attempt");
    const late = await startTestServer({ listen: `127.0.0.1:${port}` });
    try {
      await waitFor(() => tail.stderr.includes("following"), "the tail to connect", 20_000);
      const cursor = await late.client.publish({ routingKey: "late.server", kref: "kref://p/s/a.model" });
      await waitFor(() => tail.stdout.includes(cursor), "the event");
      tail.child.kill("SIGINT");
      expect((await tail.done).code).toBe(0);
    } finally {
      tail.child.kill("SIGKILL");
      await late.close();
    }
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
    const r = await runCli(["publish"], env, { file });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/published 3 events/);
  });

  it("--progress draws the progress bar on a non-terminal stderr, and clears it before the summary", async () => {
    const file = join(dir, "progress.jsonl");
    writeFileSync(file, `${[1, 2, 3].map((i) => jsonLine(i, "progress.bar")).join("\n")}\n`);
    const r = await runCli(["publish", "--progress", "--batch-size", "1"], env, { file });
    expect(r.code).toBe(0);
    // The first update draws at once: the whole (small) file has been read, one batch of one event published.
    const clearLine = "\r\u001b[K";
    const frames = r.stderr.split(clearLine);
    expect(frames[0]).toBe("");
    expect(frames[1]).toMatch(/^publishing {2}█{24} 100% {2}1 events {2}[\d,]+\/s$/);
    expect(frames[frames.length - 1]).toMatch(/^streamgate publish: published 3 events in [\d.]+ s \([\d,]+ events\/s\)\n$/);
    // Without --progress (and without a terminal) there is no progress line.
    const plain = await runCli(["publish", "--batch-size", "1"], env, { file });
    expect(plain.stderr).toMatch(/^streamgate publish: published 3 events/);
  });
});

describe("publish sizes its batches by bytes", () => {
  let small: TestServer;
  beforeAll(async () => {
    small = await startTestServer({ maxBatchBytes: 65_536 });
  });
  afterAll(async () => {
    await small.close();
  });

  /** PublishBatch calls the server finished with `code`, so far. */
  const batches = async (code: string) =>
    (await rpcsTotal.get()).values.find((v) => v.labels.method === "/streamgate.v1.Streamgate/PublishBatch" && v.labels.code === code)
      ?.value ?? 0;
  /** 40 events of about 8 KB (320 KB in all: five batches of the server's 64 KiB at least). */
  const input = () =>
    Array.from({ length: 40 }, (_, i) =>
      JSON.stringify({ routingKey: "bytes.sized", kref: `kref://p/s/e${i}.k`, details: { i: String(i), pad: "x".repeat(8000) } }),
    ).join("\n");
  const stored = async () =>
    (await small.redis.xrange(tenantKeys(small.config.keyPrefix, "default").events, "-", "+"))
      .filter(([, f]) => f[1] === "bytes.sized")
      .map(([, f]) => JSON.parse(f[f.indexOf("details") + 1] as string).i);

  it("with --batch-bytes at the server's limit no batch exceeds it; a larger budget shrinks to the limit the server names", async () => {
    const smallEnv = { STREAMGATE_ADDRESS: small.app.address };
    const [ok0, refused0] = [await batches("OK"), await batches("INVALID_ARGUMENT")];
    const fits = await runCli(["publish", "--batch-bytes", "65536"], smallEnv, input());
    expect(fits.code).toBe(0);
    expect(await batches("INVALID_ARGUMENT")).toBe(refused0); // never over the limit
    expect((await batches("OK")) - ok0).toBeGreaterThanOrEqual(5);
    expect(await stored()).toEqual(Array.from({ length: 40 }, (_, i) => String(i)));

    // The default budget (1 MiB) is above this server's 64 KiB: the first batch is refused, and from then on they fit.
    // (A long linger, so that the first batch is the full 320 KB however the pipe delivers it.)
    const [ok1, refused1] = [await batches("OK"), await batches("INVALID_ARGUMENT")];
    const adapts = await runCli(["publish", "--linger-ms", "60000"], smallEnv, input());
    expect(adapts.code).toBe(0);
    expect(adapts.stderr).toMatch(/published 40 events/);
    expect((await batches("INVALID_ARGUMENT")) - refused1).toBe(1);
    expect((await batches("OK")) - ok1).toBeGreaterThanOrEqual(5);
    expect(await stored()).toEqual([
      ...Array.from({ length: 40 }, (_, i) => String(i)),
      ...Array.from({ length: 40 }, (_, i) => String(i)),
    ]);
  });

  it("a --batch-bytes budget beyond even the server's gRPC receive limit still gets everything through, in order", async () => {
    const many = Array.from({ length: 200 }, (_, i) =>
      JSON.stringify({ routingKey: "bytes.huge", kref: `kref://p/s/h${i}.k`, details: { i: String(i), pad: "z".repeat(8000) } }),
    ).join("\n");
    // 1.6 MB in one batch: over this server's receive limit (64 KiB + 1 MiB), so gRPC refuses it before the handler.
    const r = await runCli(
      ["publish", "--batch-bytes", "4194304", "--batch-size", "1000", "--linger-ms", "60000"],
      { STREAMGATE_ADDRESS: small.app.address },
      many,
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/published 200 events/);
    const stored = (await small.redis.xrange(tenantKeys(small.config.keyPrefix, "default").events, "-", "+"))
      .filter(([, f]) => f[1] === "bytes.huge")
      .map(([, f]) => JSON.parse(f[f.indexOf("details") + 1] as string).i);
    expect(stored).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
  });

  it("an event larger than the server takes in a batch fails naming its line, after the lines before it", async () => {
    const lines = [
      JSON.stringify({ routingKey: "bytes.alone", kref: "kref://p/s/a.k", details: { i: "1" } }),
      JSON.stringify({
        routingKey: "bytes.alone",
        kref: "kref://p/s/b.k",
        details: Object.fromEntries(Array.from({ length: 8 }, (_, k) => [`k${k}`, "y".repeat(8190)])),
      }),
    ];
    const r = await runCli(["publish"], { STREAMGATE_ADDRESS: small.app.address }, lines.join("\n"));
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/published 1 event /);
    expect(r.stderr).toMatch(/line 2: the event is \d+ bytes, more than the server accepts in a batch \(65536 bytes\)/);
  });
});
