// Medians over runs, the markdown tables, and the targets of the performance
// issue, each evaluated as a ratio within the same invocation.
import type { Metrics, Scenario } from "../scenarios.js";
import type { SystemName } from "./systems.js";

export interface CaseResult {
  scenario: string;
  variant: string;
  system: SystemName;
  runs: Metrics[];
  /** Per metric, the median over runs (numbers), or "all runs" for booleans. */
  median: Metrics;
  error?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function summarize(runs: Metrics[]): Metrics {
  const out: Metrics = {};
  const keys = new Set(runs.flatMap((r) => Object.keys(r)));
  for (const k of keys) {
    const vals = runs.map((r) => r[k]);
    if (vals.every((v) => typeof v === "number")) out[k] = median(vals as number[]);
    else if (vals.every((v) => typeof v === "boolean")) out[k] = vals.every(Boolean);
    else out[k] = vals.filter((v) => v !== undefined && v !== "").join("; ") || undefined;
  }
  return out;
}

const LABELS: Record<string, string> = {
  deliveredPerSec: "delivered/s",
  publishedPerSec: "published/s",
  eventsPerSec: "events/s",
  p50: "p50 ms",
  p99: "p99 ms",
  max: "max ms",
  correct: "correct",
  serverCpuUsPerEvent: "server CPU µs/event",
  redisCpuUsPerEvent: "Redis CPU µs/event",
  clientCpuUsPerEvent: "client CPU µs/event",
  clientCores: "client cores",
  serverPeakRssMB: "server peak RSS MB",
  rssPerSubKB: "RSS/sub KB",
  heapPerSubKB: "heap/sub KB",
  redisCmdsPerEvent: "Redis cmds/event",
  subscribers: "subs",
  minShare: "min share",
  maxShare: "max share",
};

function fmt(v: unknown): string {
  if (v === undefined) return "–";
  if (typeof v === "boolean") return v ? "yes" : "**NO**";
  if (typeof v !== "number") return String(v);
  if (!Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a >= 10_000) return `${Math.round(v / 1000)}k`;
  if (a >= 100) return String(Math.round(v));
  if (a >= 10) return v.toFixed(1);
  if (a >= 0.1) return v.toFixed(2);
  if (a === 0) return "0";
  return v.toPrecision(2);
}

export function tables(scenarios: Scenario[], results: CaseResult[]): string {
  const out: string[] = [];
  for (const sc of scenarios) {
    const rows = results.filter((r) => r.scenario === sc.name);
    if (rows.length === 0) continue;
    out.push(`### ${sc.name}: ${sc.title}`, "");
    out.push(`| system | case | ${sc.columns.map((c) => LABELS[c] ?? c).join(" | ")} |`);
    out.push(`|---|---|${sc.columns.map(() => "---:").join("|")}|`);
    for (const r of rows) {
      const cells = r.error ? [`failed: ${r.error.split("\n")[0]}`] : sc.columns.map((c) => fmt(r.median[c]));
      out.push(`| ${r.system} | ${r.variant} | ${cells.join(" | ")} |`);
    }
    const problems = rows.filter((r) => !r.error && r.median.problems).map((r) => `${r.system} ${r.variant}: ${r.median.problems}`);
    if (problems.length) out.push("", ...problems.map((p) => `- ${p}`));
    out.push("");
  }
  return out.join("\n");
}

export interface Target {
  id: number;
  goal: string;
  measured: string;
  pass: boolean | undefined;
}

function get(results: CaseResult[], scenario: string, system: SystemName, metric: string, variant?: string): number | undefined {
  const r = results.find(
    (x) => x.scenario === scenario && x.system === system && !x.error && (variant === undefined || x.variant === variant),
  );
  const v = r?.median[metric];
  return typeof v === "number" ? v : undefined;
}

function ok(results: CaseResult[], scenario: string, system: SystemName, variant?: string): boolean {
  const r = results.find(
    (x) => x.scenario === scenario && x.system === system && !x.error && (variant === undefined || x.variant === variant),
  );
  return r?.median.correct === true;
}

const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);
const x = (v: number | undefined) => (v === undefined ? "n/a" : `${v.toFixed(2)}x`);

export function targets(results: CaseResult[]): Target[] {
  const t: Target[] = [];
  const cpuK = ratio(
    get(results, "cpu-100", "streamgate-kumiho", "serverCpuUsPerEvent"),
    get(results, "cpu-100", "bare-grpc", "serverCpuUsPerEvent"),
  );
  const cpuB = ratio(
    get(results, "cpu-100", "streamgate", "serverCpuUsPerEvent"),
    get(results, "cpu-100", "bare-grpc", "serverCpuUsPerEvent"),
  );
  t.push({
    id: 1,
    goal: "server CPU per delivered event ≤ 1.3x the bare grpc-js stream's, 100 subscribers (cpu-100)",
    measured: `Kumiho protocol (one message per event, like for like) ${x(cpuK)}; batched Subscribe ${x(cpuB)}`,
    pass: cpuK === undefined ? undefined : cpuK <= 1.3,
  });
  const rep = get(results, "replay", "streamgate", "deliveredPerSec");
  const repBare = ratio(rep, get(results, "replay", "bare-grpc", "deliveredPerSec"));
  const repNats = ratio(rep, get(results, "replay", "nats", "deliveredPerSec"));
  t.push({
    id: 2,
    goal: "replay ≥ 1.5x the bare grpc-js one-event-per-message stream and ≥ NATS JetStream",
    measured: `${x(repBare)} bare grpc-js, ${x(repNats)} NATS`,
    pass: repBare === undefined ? undefined : repBare >= 1.5 && (repNats === undefined || repNats >= 1),
  });
  const p99 = get(results, "fanout-100", "streamgate", "p99");
  t.push({
    id: 3,
    goal: "100 match-all subscribers at 2,000 events/s: every event delivered, p99 < 50 ms",
    measured: `correct: ${ok(results, "fanout-100", "streamgate") ? "yes" : "no"}, p99 ${p99?.toFixed(1) ?? "n/a"} ms`,
    pass: p99 === undefined ? undefined : ok(results, "fanout-100", "streamgate") && p99 < 50,
  });
  const f = get(results, "filtered-100", "streamgate", "p99");
  const fn = get(results, "filtered-100", "nats", "p99");
  t.push({
    id: 4,
    goal: "100 filtered subscribers: p99 no worse than NATS JetStream's",
    measured: `Streamgate ${f?.toFixed(1) ?? "n/a"} ms, NATS ${fn?.toFixed(1) ?? "n/a"} ms`,
    pass: f === undefined || fn === undefined ? undefined : f <= fn && ok(results, "filtered-100", "streamgate"),
  });
  // N = 1 at the rate of the 1,000-subscriber run (200 events/s), so the two differ only in N.
  const c1 = get(results, "fanout-1", "streamgate", "redisCmdsPerEvent");
  const c100 = get(results, "fanout-100", "streamgate", "redisCmdsPerEvent");
  const c1000 = get(results, "fanout-1000", "streamgate", "redisCmdsPerEvent");
  const scaled = [c100 !== undefined ? c100 * 100 : undefined, c1000 !== undefined ? c1000 * 1000 : undefined];
  t.push({
    id: 5,
    goal: "Redis commands per delivered event fall as 1/N (N = 1, 100, 1,000)",
    measured: `${c1?.toFixed(3) ?? "n/a"} / ${c100?.toFixed(4) ?? "n/a"} / ${c1000?.toFixed(5) ?? "n/a"} (x N: ${[c1, ...scaled].map((v) => v?.toFixed(2) ?? "n/a").join(" / ")})`,
    pass: c1 === undefined || c100 === undefined ? undefined : scaled.every((v) => v === undefined || v <= 1.5 * c1),
  });
  const m = (n: number) => get(results, "distinct-filters", "streamgate", "serverCpuUsPerEvent", `N=${n}`);
  const rss =
    get(results, "distinct-filters", "streamgate", "rssPerSubKB", "N=10000") ??
    get(results, "distinct-filters", "streamgate", "rssPerSubKB", "N=1000");
  const top = m(10_000) ?? m(1000);
  const growth = ratio(top, m(100));
  const subsTop = m(10_000) !== undefined ? 10_000 : 1000;
  t.push({
    id: 6,
    goal: "distinct kref filters: per-event matching cost sublinear in subscriptions (100 / 1,000 / 10,000); idle subscription ≤ 20 KB RSS",
    measured: `server µs/event ${[m(100), m(1000), m(10_000)].map((v) => v?.toFixed(1) ?? "n/a").join(" / ")} (${x(growth)} for ${subsTop / 100}x the subscriptions); ${rss?.toFixed(1) ?? "n/a"} KB per idle subscription`,
    pass: growth === undefined || rss === undefined ? undefined : growth < Math.sqrt(subsTop / 100) && rss <= 20,
  });
  const keyed = get(results, "publish-batch", "streamgate", "eventsPerSec");
  const keyless = results.find((r) => r.scenario === "publish-batch" && r.system === "streamgate" && r.variant.endsWith("no keys"));
  const pb = ratio(keyed, get(results, "publish-batch", "ioredis", "eventsPerSec"));
  const cost = ratio(keyed, typeof keyless?.median.eventsPerSec === "number" ? keyless.median.eventsPerSec : undefined);
  t.push({
    id: 7,
    goal: "PublishBatch of 100 events with idempotency keys (deduplicated) ≥ 0.5x raw pipelined XADD",
    measured: `${x(pb)} (with keys vs without: ${x(cost)})`,
    pass: pb === undefined ? undefined : pb >= 0.5,
  });
  return t;
}

export function targetTable(ts: Target[]): string {
  const rows = ts.map(
    (t) => `| ${t.id} | ${t.goal} | ${t.measured} | ${t.pass === undefined ? "not measured" : t.pass ? "met" : "**missed**"} |`,
  );
  return ["| # | target | measured (medians, same run) | result |", "|---|---|---|---|", ...rows].join("\n");
}
