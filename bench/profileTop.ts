// `npx tsx bench/profileTop.ts <file.cpuprofile> [n] [--inclusive]`: the
// functions with the most self time (or, with --inclusive, the most time
// including their callees) in a V8 CPU profile, to find the hot path before
// optimising it. bench/run.ts writes profiles with BENCH_PROFILE=<dir>.
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}

const args = process.argv.slice(2);
const inclusive = args.includes("--inclusive");
const [file, n = "30"] = args.filter((a) => !a.startsWith("--"));
if (!file) {
  process.stderr.write("usage: profileTop.ts <file.cpuprofile> [n] [--inclusive]\n");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, "utf8")) as { nodes: Node[] };
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const keyOf = (node: Node) => {
  const f = node.callFrame;
  const where = f.url ? `${f.url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*?\/main\//, "")}:${f.lineNumber + 1}` : "";
  return `${f.functionName || "(anonymous)"} ${where}`;
};
const totals = new Map<string, number>();
let all = 0;
for (const node of profile.nodes) all += node.hitCount;

if (!inclusive) {
  for (const node of profile.nodes) totals.set(keyOf(node), (totals.get(keyOf(node)) ?? 0) + node.hitCount);
} else {
  // Depth-first from the root, counting a subtree once per function even when it recurses.
  const subtree = (node: Node): number => node.hitCount + (node.children ?? []).reduce((s, c) => s + subtree(byId.get(c) as Node), 0);
  const walk = (node: Node, open: Set<string>) => {
    const key = keyOf(node);
    const fresh = !open.has(key);
    if (fresh) {
      totals.set(key, (totals.get(key) ?? 0) + subtree(node));
      open.add(key);
    }
    for (const c of node.children ?? []) walk(byId.get(c) as Node, open);
    if (fresh) open.delete(key);
  };
  walk(profile.nodes[0] as Node, new Set());
}
const rows = [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(n));
for (const [key, hits] of rows) process.stdout.write(`${((hits / all) * 100).toFixed(1).padStart(5)}%  ${key}\n`);
