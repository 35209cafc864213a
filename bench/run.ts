// `npm run bench [-- --quick] [--runs N] [--only a,b] [--systems x,y]`: runs every
// scenario against Streamgate and the references in one invocation, prints the
// tables and the targets, and writes JSON and markdown to bench/results/.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { stopLoadProcesses } from "./lib/loadPool.js";
import { type CaseResult, summarize, tables, targets, targetTable } from "./lib/report.js";
import { type BenchNats, hasNatsServer, startBenchNats, startBenchRedis } from "./lib/services.js";
import type { SystemName } from "./lib/systems.js";
import { type Metrics, scenarios } from "./scenarios.js";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    runs: { type: "string" },
    only: { type: "string" },
    systems: { type: "string" },
    out: { type: "string", default: "bench/results/" },
  },
});
const quick = values.quick ?? false;
const runs = Number(values.runs ?? (quick ? 1 : 3));
const only = values.only?.split(",");
const onlySystems = values.systems?.split(",") as SystemName[] | undefined;

const redis = await startBenchRedis();
let nats: BenchNats | undefined;
if (hasNatsServer()) nats = await startBenchNats();
else process.stderr.write("bench: no nats-server binary; NATS JetStream figures are skipped\n");
const svc = { redis, nats };

const chosen = scenarios.filter((s) => !only || only.includes(s.name));
const cases = chosen
  .flatMap((s) => s.cases({ quick, nats: nats !== undefined }))
  .filter((c) => !onlySystems || onlySystems.includes(c.system));
const results: CaseResult[] = cases.map((c) => ({ scenario: c.scenario, variant: c.variant, system: c.system, runs: [], median: {} }));
const started = Date.now();

try {
  for (const sc of chosen) {
    const idx = cases.map((c, i) => (c.scenario === sc.name ? i : -1)).filter((i) => i >= 0);
    // Round-robin over the systems within each repetition, so drift in the machine's load hits all of them alike.
    for (let r = 0; r < runs; r++) {
      for (const i of idx) {
        const c = cases[i] as (typeof cases)[number];
        const res = results[i] as CaseResult;
        if (res.error) continue;
        process.stderr.write(`bench: ${c.scenario} ${c.variant} ${c.system} run ${r + 1}/${runs} ... `);
        const t0 = Date.now();
        process.env.BENCH_CASE = `${c.scenario}-${c.variant}`;
        try {
          const m: Metrics = await c.run(svc);
          res.runs.push(m);
          process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(1)} s${m.correct === false ? ` (INCORRECT: ${m.problems})` : ""}\n`);
        } catch (err) {
          res.error = (err as Error).message;
          process.stderr.write(`failed: ${res.error}\n`);
        }
      }
    }
    for (const i of idx) {
      const res = results[i] as CaseResult;
      if (res.runs.length) res.median = summarize(res.runs);
    }
  }
} finally {
  await stopLoadProcesses();
  await redis.stop();
  await nats?.stop();
}

const ts = targets(results);
const header = [
  `# Streamgate bench${quick ? " (quick)" : ""}`,
  "",
  `${new Date().toISOString()} · ${cpus().length} × ${cpus()[0]?.model ?? "cpu"} · ${Math.round(totalmem() / 2 ** 30)} GiB · Node ${process.version} · medians of ${runs} run(s) · ${((Date.now() - started) / 1000).toFixed(0)} s`,
  "",
].join("\n");
const md = `${header}## Targets\n\n${targetTable(ts)}\n\n## Scenarios\n\n${tables(chosen, results)}`;
process.stdout.write(`${md}\n`);
mkdirSync(values.out as string, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const json = JSON.stringify({ quick, runs, node: process.version, cpus: cpus().length, results, targets: ts }, null, 2);
for (const name of [`bench-${stamp}`, quick ? "latest-quick" : "latest"]) {
  writeFileSync(`${values.out}${name}.json`, json);
  writeFileSync(`${values.out}${name}.md`, md);
}
// A Streamgate case that fails or delivers incorrectly fails the command (CI runs --quick); a
// reference that cannot keep up (a naive server overwhelmed by 10,000 filters) is a result, shown in
// the table, and a missed speed target is reported, not fatal.
const broken = results.filter((r) => r.system.startsWith("streamgate") && (r.error || r.median.correct === false));
if (broken.length) {
  process.stderr.write(`bench: ${broken.length} case(s) failed or delivered incorrectly\n`);
  process.exit(1);
}
