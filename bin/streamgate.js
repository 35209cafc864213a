#!/usr/bin/env node
// The `streamgate` command. Runs the built CLI when present, else the sources through tsx.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

async function load(module) {
  const built = join(root, `dist/server/cli/${module}.js`);
  if (existsSync(built)) return import(pathToFileURL(built).href);
  const { register } = await import("tsx/esm/api");
  register();
  return import(pathToFileURL(join(root, `server/cli/${module}.ts`)).href);
}

// `keys` goes to the key-management command until the CLI dispatcher (server/cli/main.ts) routes it.
if (process.argv[2] === "keys") {
  const { runKeysCommand } = await load("keysCommand");
  process.exitCode = await runKeysCommand(process.argv.slice(3));
} else {
  await load("main");
}
