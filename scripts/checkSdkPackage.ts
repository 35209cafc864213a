// Checks that client-sdk/ is installable on its own, as a user would get it:
// `npm pack` (which builds it), then, in an empty temp project, the tarball
// installed under node_modules/@streamgate/client, `import { createClient }`
// from plain ESM, and a TypeScript consumer type-checked against its types.
//
//   npm run check:sdk-package            offline: the package's dependencies are linked from this checkout
//   npm run check:sdk-package -- --npm   a real `npm install <tarball>` (needs the npm registry)
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const sdk = join(root, "client-sdk");
const realInstall = process.argv.includes("--npm");

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? jsFiles(path) : path.endsWith(".js") ? [path] : [];
  });
}

const work = mkdtempSync(join(tmpdir(), "streamgate-sdk-package-"));
try {
  const tarball = join(work, run("npm", ["pack", "--silent", "--pack-destination", work], sdk).trim().split("\n").pop() as string);
  const app = join(work, "app");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true, type: "module" }));
  const installed = join(app, "node_modules/@streamgate/client");

  if (realInstall) {
    run("npm", ["install", "--no-audit", "--no-fund", tarball], app);
  } else {
    mkdirSync(installed, { recursive: true });
    run("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"], app);
    // Every bare import in the built files must be a declared dependency, or a real install would not resolve it.
    const pkg = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    const declared = new Set(Object.keys(pkg.dependencies ?? {}));
    for (const file of jsFiles(join(installed, "dist"))) {
      for (const [, spec] of readFileSync(file, "utf8").matchAll(/from ["']([^"'.][^"']*)["']/g)) {
        const name = (spec as string).startsWith("@") ? (spec as string).split("/").slice(0, 2).join("/") : (spec as string).split("/")[0];
        if (!(spec as string).startsWith("node:") && !declared.has(name as string)) {
          throw new Error(`${file.slice(installed.length + 1)} imports "${spec}", which package.json does not declare`);
        }
        if ((spec as string).startsWith("../")) throw new Error(`${file} reaches outside the package`);
      }
    }
    for (const dep of declared) {
      mkdirSync(dirname(join(app, "node_modules", dep)), { recursive: true });
      symlinkSync(join(root, "node_modules", dep), join(app, "node_modules", dep), "dir");
    }
  }

  const probe = `import { createClient, EventSubscription } from "@streamgate/client";
const client = createClient({ address: "127.0.0.1:1" });
const sub = client.eventStream({ routingKeyFilter: "item.*" });
if (!(sub instanceof EventSubscription)) throw new Error("eventStream did not return an EventSubscription");
sub.close();
client.close();
console.log("ok");`;
  writeFileSync(join(app, "probe.mjs"), probe);
  const out = run(process.execPath, ["probe.mjs"], app).trim();
  if (out !== "ok") throw new Error(`import probe printed ${JSON.stringify(out)}`);

  writeFileSync(
    join(app, "consumer.ts"),
    `import { createClient, type Event, StreamgateClientError } from "@streamgate/client";
export async function latest(address: string): Promise<Event | undefined> {
  const client = createClient({ address });
  try {
    for await (const event of client.eventStream({ fromBeginning: true })) return event;
  } catch (err) {
    if (err instanceof StreamgateClientError) console.error(err.codeName);
  } finally {
    client.close();
  }
  return undefined;
}
`,
  );
  run(
    join(root, "node_modules/.bin/tsc"),
    [
      "--noEmit",
      "--strict",
      "--module",
      "nodenext",
      "--moduleResolution",
      "nodenext",
      "--target",
      "es2022",
      "--lib",
      "es2023,esnext.disposable",
      "--types",
      "node",
      "--typeRoots",
      join(root, "node_modules/@types"),
      "consumer.ts",
    ],
    app,
  );
  console.log(`@streamgate/client packs, installs${realInstall ? " from npm" : ""}, imports and type-checks on its own`);
} catch (err) {
  const e = err as { stdout?: string; stderr?: string; message: string };
  console.error(`check:sdk-package failed: ${e.message}\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
