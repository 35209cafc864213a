// Child process of the load generator: hosts a share of a run's subscribers (or
// its publisher) so that the client side is spread over processes and its CPU
// can be reported next to the server's.
import { serveParent } from "../lib/child.js";
import { Histogram, type HistogramData } from "../lib/histogram.js";
import { expectedCount, type SubSpec } from "../lib/workload.js";
import { profilerHandlers } from "../targets/profiler.js";
import { type Member, type MemberJob, openMember } from "./groupMembers.js";
import { type PublishJob, publish } from "./publishers.js";
import { type Connection, type Group, type Opened, type Start, type SubscriberKind, subscriberGroup } from "./subscribers.js";
import { Tally } from "./tally.js";

export interface SubscribeJob {
  kind: SubscriberKind;
  conn: Connection;
  subs: SubSpec[];
  start: Start;
  total: number;
  projects: number;
  /** Subscribers sharing one channel/connection. */
  perGroup: number;
  latency: boolean;
  /** Events [0, warmup) warm the system up and are left out of the latency figures. */
  warmup: number;
}

export interface CollectResult {
  subscribers: number;
  complete: number;
  received: number;
  expected: number;
  duplicates: number;
  unexpected: number;
  outOfOrder: number;
  firstAt: number;
  lastAt: number;
  latency: HistogramData;
}

let tallies: Tally[] = [];
let opened: Opened[] = [];
let groups: Group[] = [];
let latency = new Histogram();
let members: Member[] = [];

async function subscribe(job: SubscribeJob): Promise<number> {
  latency = new Histogram();
  // Subscribers with the same spec expect the same count: compute it once per spec.
  const counts = new Map<string, number>();
  const ready: Promise<void>[] = [];
  let group: Group | undefined;
  job.subs.forEach((spec, i) => {
    if (i % job.perGroup === 0) {
      group = subscriberGroup(job.kind, job.conn);
      groups.push(group);
    }
    const key = JSON.stringify(spec);
    let expected = counts.get(key);
    if (expected === undefined) {
      expected = expectedCount(spec, job.total, job.projects);
      counts.set(key, expected);
    }
    const tally = new Tally(spec, job.total, job.projects, expected, job.latency ? latency : undefined, job.warmup);
    tallies.push(tally);
    const o = (group as Group).open(spec, tally, job.start);
    opened.push(o);
    ready.push(o.ready);
  });
  await Promise.all(ready);
  return tallies.length;
}

/** Waits until every subscriber has its events, or until nothing arrives for `idleMs`. */
async function collect(args: { idleMs: number }): Promise<CollectResult> {
  let lastTotal = -1;
  let lastChange = Date.now();
  for (;;) {
    const received = tallies.reduce((n, t) => n + t.received, 0);
    if (received !== lastTotal) {
      lastTotal = received;
      lastChange = Date.now();
    }
    const complete = tallies.every((t) => t.received >= t.expected);
    if (complete || Date.now() - lastChange > args.idleMs) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const out: CollectResult = {
    subscribers: tallies.length,
    complete: 0,
    received: 0,
    expected: 0,
    duplicates: 0,
    unexpected: 0,
    outOfOrder: 0,
    firstAt: Number.POSITIVE_INFINITY,
    lastAt: 0,
    latency: latency.toJSON(),
  };
  for (const t of tallies) {
    const r = t.result();
    if (r.received === r.expected && r.duplicates === 0 && r.unexpected === 0 && r.outOfOrder === 0) out.complete++;
    out.received += r.received;
    out.expected += r.expected;
    out.duplicates += r.duplicates;
    out.unexpected += r.unexpected;
    out.outOfOrder += r.outOfOrder;
    if (r.received > 0) out.firstAt = Math.min(out.firstAt, r.firstAt);
    out.lastAt = Math.max(out.lastAt, r.lastAt);
  }
  return out;
}

async function close(): Promise<boolean> {
  for (const o of opened) o.close();
  await Promise.all(groups.map((g) => g.close()));
  await Promise.all(members.splice(0).map((m) => m.close()));
  tallies = [];
  opened = [];
  groups = [];
  return true;
}

/** Joins consumer-group members (one job each) and waits until each has joined. */
async function join(jobs: MemberJob[]): Promise<number> {
  latency = new Histogram();
  members = jobs.map((j) => openMember(j, latency));
  await Promise.all(members.map((m) => m.ready));
  return members.length;
}

export interface MembersResult {
  /** Per member: how many times it was handed each sequence number. */
  seen: Uint8Array[];
  received: number[];
  latency: HistogramData;
}

/** What the members have received so far, and when the last delivery arrived. */
function progress(): { received: number; lastAt: number } {
  return { received: members.reduce((n, m) => n + m.received, 0), lastAt: Math.max(0, ...members.map((m) => m.lastAt)) };
}

/** Closes the members and reports what each one got. */
async function finish(): Promise<MembersResult> {
  const out = { seen: members.map((m) => m.seen), received: members.map((m) => m.received), latency: latency.toJSON() };
  await Promise.all(members.map((m) => m.close()));
  members = [];
  return out;
}

serveParent({
  ...profilerHandlers,
  subscribe,
  collect,
  close,
  join,
  progress,
  finish,
  publish: (job: PublishJob) => publish(job),
});
