import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

function files(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]))
    .sort();
}

describe("generated client types", () => {
  it("are up to date with proto/ (run `npm run generate` after changing a .proto)", () => {
    const out = mkdtempSync(join(tmpdir(), "sg-gen-"));
    try {
      execFileSync(process.execPath, ["--import", "tsx", "scripts/generate.ts", "--out", out], { stdio: "pipe" });
      const checkedIn = "client-sdk/src/generated";
      const fresh = files(out).map((f) => relative(out, f));
      expect(files(checkedIn).map((f) => relative(checkedIn, f))).toEqual(fresh);
      for (const f of fresh) expect(readFileSync(join(checkedIn, f), "utf8"), f).toBe(readFileSync(join(out, f), "utf8"));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
