#!/usr/bin/env node
// The `streamgate` command. In a checkout it runs the sources through tsx, so that an edit never
// runs against an older build; an installed package or the image has only dist/ (and no tsx).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(root, "server/cli/main.ts");
const built = join(root, "dist/server/cli/main.js");

async function registerTsx() {
  try {
    const { register } = await import("tsx/esm/api");
    register();
    return true;
  } catch {
    return false; // production dependencies only
  }
}

if (existsSync(source) && (await registerTsx())) {
  await import(pathToFileURL(source).href);
} else if (existsSync(built)) {
  await import(pathToFileURL(built).href);
} else {
  process.stderr.write("streamgate: neither the sources with tsx nor a build (dist/) were found; run `npm ci && npm run build`\n");
  process.exit(1);
}
