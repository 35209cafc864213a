// `streamgate keys ...` against the servers' Redis, run as a real process
// (the stable `keys create --json` contract) and in-process for the rest;
// and `npm start` refusing auth none on a public address.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../client-sdk/src/index.js";
import { runKeysCommand } from "../server/cli/keysCommand.js";
import { redisUrl, startTestServer, type TestServer } from "./helpers.js";
import { expectCode } from "./tenancyHelpers.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

function run(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `streamgate keys <args>` in-process, capturing its output. */
async function keys(env: Record<string, string>, ...args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runKeysCommand(
    args,
    env,
    (s) => {
      stdout += s;
    },
    (s) => {
      stderr += s;
    },
  );
  return { code, stdout, stderr };
}

describe("streamgate keys", () => {
  let t: TestServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    t = await startTestServer({ auth: "keys" });
    env = { REDIS_URL: redisUrl(), STREAMGATE_KEY_PREFIX: t.config.keyPrefix };
  });
  afterAll(async () => {
    await t.close();
  });

  it("`npx streamgate keys create --json` prints one JSON object whose token works on the server at once", async () => {
    const res = await run(
      process.execPath,
      ["bin/streamgate.js", "keys", "create", "--tenant", "acme", "--tier", "creator", "--json"],
      env,
    );
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const created = JSON.parse(res.stdout) as Record<string, string>;
    expect(created).toMatchObject({ tenant: "acme", tier: "creator" });
    expect(created.id).toMatch(/^key_[0-9a-f]{16}$/);
    expect(created.token).toMatch(/^sg_/);
    const client = createClient({ address: t.app.address, token: created.token });
    try {
      expect((await client.getEventCapabilities()).tier).toBe("creator");
    } finally {
      client.close();
    }
  });

  it("lists without secrets, changes the tier, and revokes", async () => {
    const created = JSON.parse((await keys(env, "create", "--tenant", "globex", "--tier", "free", "--name", "ci", "--json")).stdout);
    const client = createClient({ address: t.app.address, token: created.token });
    try {
      const listed = await keys(env, "list", "--tenant", "globex", "--json");
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.stdout)).toEqual([
        { id: created.id, tenant: "globex", tier: "free", name: "ci", createdAt: created.createdAt },
      ]);
      expect((await keys(env, "list")).stdout).toMatch(new RegExp(`${created.id}\\s+globex\\s+free`));

      const moved = await keys(env, "set-tier", created.id, "studio");
      expect(moved).toMatchObject({ code: 0, stdout: "Tenant globex is now on tier studio (was free).\n" });
      expect((await client.getEventCapabilities()).tier).toBe("studio");

      expect((await keys(env, "revoke", created.id)).code).toBe(0);
      await expectCode(client.getEventCapabilities(), status.UNAUTHENTICATED);
      expect(JSON.parse((await keys(env, "list", "--tenant", "globex", "--json")).stdout)).toEqual([]);
    } finally {
      client.close();
    }
  });

  it("reports usage errors with exit code 2 and failures with 1, never creating anything", async () => {
    expect(await keys(env, "create", "--tenant", "a{b}", "--tier", "free")).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/tenant id "a\{b\}" is invalid/),
    });
    expect(await keys(env, "create", "--tenant", "ok", "--tier", "gold")).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/unknown tier "gold"/),
    });
    expect(await keys(env, "create", "--tier", "free")).toMatchObject({ code: 2, stderr: expect.stringMatching(/--tenant is required/) });
    expect(await keys(env, "create", "--tenant", "ok", "--tier", "free", "--bogus")).toMatchObject({ code: 2 });
    expect(await keys(env, "revoke")).toMatchObject({ code: 2, stderr: expect.stringMatching(/expected 1 argument/) });
    expect(await keys(env, "frobnicate")).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown keys command/) });
    expect(await keys(env, "revoke", "key_0000000000000000")).toMatchObject({ code: 1, stderr: expect.stringMatching(/no API key/) });
    expect(await keys({}, "list")).toMatchObject({ code: 2, stderr: expect.stringMatching(/REDIS_URL is not set/) });
    expect(await keys({ REDIS_URL: "redis://127.0.0.1:1" }, "list")).toMatchObject({ code: 1 });
    expect(JSON.parse((await keys(env, "list", "--json")).stdout).map((k: { tenant: string }) => k.tenant)).toEqual(["acme"]);
    const help = await keys(env, "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/create --tenant T --tier X/);
    expect((await keys(env, "create", "--help")).code).toBe(0);
  });
});

describe("npm start with auth none", () => {
  it("refuses to start on a non-loopback address without STREAMGATE_ALLOW_INSECURE_NONE_AUTH", async () => {
    const tsx = join(root, "node_modules/.bin/tsx");
    const res = await run(tsx, ["server/main.ts"], {
      REDIS_URL: redisUrl(),
      STREAMGATE_LISTEN: "0.0.0.0:0",
      STREAMGATE_LOG_LEVEL: "silent",
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/invalid configuration: STREAMGATE_AUTH=none .* STREAMGATE_ALLOW_INSECURE_NONE_AUTH=true/);
  });
});
