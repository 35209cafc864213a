// The bench's scenarios. Each expands into cases (one per system, and per size
// where a scenario sweeps one), all run in the same invocation so that ratios
// between Streamgate and the references cancel the machine's noise.

import { runGroups } from "./lib/runGroups.js";
import { runPublish } from "./lib/runPublish.js";
import { runStream } from "./lib/runStream.js";
import type { Services, SystemName } from "./lib/systems.js";
import type { SubSpec } from "./lib/workload.js";

export type Metrics = Record<string, number | string | boolean | undefined>;

export interface Case {
  scenario: string;
  /** e.g. "N=1000" for a sweep; "" otherwise. */
  variant: string;
  system: SystemName;
  run(svc: Services): Promise<Metrics>;
}

export interface Scenario {
  name: string;
  title: string;
  /** Metric columns of this scenario's table, in order. */
  columns: string[];
  cases(o: { quick: boolean; nats: boolean }): Case[];
}

const ALL: SystemName[] = ["streamgate", "streamgate-kumiho", "bare-grpc", "ioredis", "nats"];
const STREAM_COLUMNS = [
  "deliveredPerSec",
  "p50",
  "p99",
  "max",
  "correct",
  "serverCpuUsPerEvent",
  "redisCpuUsPerEvent",
  "clientCpuUsPerEvent",
  "clientCores",
  "serverPeakRssMB",
  "redisCmdsPerEvent",
];

const systems = (names: SystemName[], nats: boolean) => names.filter((s) => s !== "nats" || nats);
/** The quick (CI smoke) run warms up briefly: it checks that every case works, its figures are not quoted. */
const warm = (quick: boolean, rate: number | undefined) => (quick ? { warmup: Math.ceil((rate ?? 2000) / 4), drainMs: 200 } : {});
const matchAll = (n: number): SubSpec[] => Array.from({ length: n }, () => ({}));

export const scenarios: Scenario[] = [
  {
    name: "replay",
    title: "Replay of stored history, 1 subscriber from the beginning",
    columns: ["deliveredPerSec", "correct", "serverCpuUsPerEvent", "redisCpuUsPerEvent", "clientCpuUsPerEvent", "serverPeakRssMB"],
    cases: ({ quick, nats }) =>
      systems(ALL, nats).map((system) => ({
        scenario: "replay",
        variant: quick ? "20k events" : "200k events",
        system,
        run: (svc) =>
          runStream(
            {
              system,
              subs: matchAll(1),
              start: "beginning",
              total: quick ? 20_000 : 200_000,
              projects: 10,
              loadProcs: 1,
              perGroup: 1,
              latency: false,
            },
            svc,
          ) as unknown as Promise<Metrics>,
      })),
  },
  {
    name: "live-1",
    title: "Live, 1 subscriber, publisher at its maximum rate (batches of 100, 4 in flight)",
    columns: ["deliveredPerSec", "publishedPerSec", ...STREAM_COLUMNS.slice(1)],
    cases: ({ quick, nats }) =>
      systems(ALL, nats).map((system) => ({
        scenario: "live-1",
        variant: quick ? "10k events" : "100k events",
        system,
        run: (svc) =>
          runStream(
            {
              system,
              subs: matchAll(1),
              start: "live",
              total: quick ? 10_000 : 100_000,
              projects: 10,
              publish: { batch: 100, window: 4 },
              loadProcs: 1,
              perGroup: 1,
              latency: true,
              ...warm(quick, undefined),
            },
            svc,
          ) as unknown as Promise<Metrics>,
      })),
  },
  // fanout-1 is the same-rate baseline for Redis commands per delivered event at 1,000 subscribers.
  ...[
    { n: 1, rate: 200, perGroup: 1 },
    { n: 100, rate: 2000, perGroup: 1 },
    { n: 1000, rate: 200, perGroup: 10 },
  ].map(
    ({ n, rate, perGroup }): Scenario => ({
      name: `fanout-${n}`,
      title: `${n} match-all subscribers at a fixed ${rate} events/s`,
      columns: STREAM_COLUMNS,
      cases: ({ quick, nats }) =>
        systems(ALL, nats).map((system) => ({
          scenario: `fanout-${n}`,
          variant: `${rate}/s x ${quick ? 1 : 10} s`,
          system,
          run: (svc) =>
            runStream(
              {
                system,
                subs: matchAll(quick ? Math.min(n, 300) : n),
                start: "live",
                total: rate * (quick ? 1 : 10),
                projects: 10,
                publish: { rate, batch: 1, window: 64, tickMs: 5 },
                loadProcs: 4,
                perGroup,
                latency: true,
                ...warm(quick, rate),
              },
              svc,
            ) as unknown as Promise<Metrics>,
        })),
    }),
  ),
  {
    name: "cpu-100",
    title:
      "100 match-all subscribers at 500 events/s: a rate every server sustains with one message per event, for CPU per delivered event",
    columns: STREAM_COLUMNS,
    cases: ({ quick }) =>
      (["streamgate", "streamgate-kumiho", "bare-grpc"] as SystemName[]).map((system) => ({
        scenario: "cpu-100",
        variant: `500/s x ${quick ? 1 : 10} s`,
        system,
        run: (svc) =>
          runStream(
            {
              system,
              subs: matchAll(100),
              start: "live",
              total: 500 * (quick ? 1 : 10),
              projects: 10,
              publish: { rate: 500, batch: 1, window: 64, tickMs: 5 },
              loadProcs: 4,
              perGroup: 1,
              latency: true,
              ...warm(quick, 500),
            },
            svc,
          ) as unknown as Promise<Metrics>,
      })),
  },
  {
    name: "filtered-100",
    title: "100 filtered subscribers (kref per project over 10 projects; half also revision.*), publisher at max rate",
    columns: STREAM_COLUMNS,
    cases: ({ quick, nats }) =>
      systems(ALL, nats).map((system) => ({
        scenario: "filtered-100",
        variant: quick ? "5k events" : "50k events",
        system,
        run: (svc) =>
          runStream(
            {
              system,
              subs: Array.from({ length: 100 }, (_, i) => ({ project: i % 10, revisionOnly: i % 2 === 1 })),
              start: "live",
              total: quick ? 5_000 : 50_000,
              projects: 10,
              publish: { batch: 100, window: 4 },
              loadProcs: 4,
              perGroup: 1,
              latency: true,
              ...warm(quick, undefined),
            },
            svc,
          ) as unknown as Promise<Metrics>,
      })),
  },
  {
    name: "distinct-filters",
    title: "N idle subscriptions with distinct kref filters (kref://projJ/**), then 1,000 events/s, each matching one",
    columns: [
      "subscribers",
      "rssPerSubKB",
      "heapPerSubKB",
      "serverCpuUsPerEvent",
      "p50",
      "p99",
      "max",
      "correct",
      "serverPeakRssMB",
      "clientCores",
    ],
    cases: ({ quick, nats }) =>
      (quick ? [100, 500] : [100, 1000, 10_000]).flatMap((n) =>
        // Per-subscriber references only where they stay feasible on two cores:
        // raw ioredis makes every client scan every event, NATS runs a consumer per subscription.
        systems(
          ["streamgate", "bare-grpc", ...(n <= 1000 ? (["nats"] as SystemName[]) : []), ...(n <= 100 ? (["ioredis"] as SystemName[]) : [])],
          nats,
        ).map((system) => ({
          scenario: "distinct-filters",
          variant: `N=${n}`,
          system,
          run: (svc) =>
            runStream(
              {
                system,
                subs: Array.from({ length: n }, (_, j) => ({ project: j })),
                start: "live",
                total: quick ? 1000 : 5000,
                projects: n,
                publish: { rate: 1000, batch: 1, window: 64, tickMs: 5 },
                loadProcs: 4,
                perGroup: 100,
                latency: true,
                idleRss: true,
                ...warm(quick, 1000),
              },
              svc,
            ) as unknown as Promise<Metrics>,
        })),
      ),
  },
  {
    name: "publish-batch",
    title:
      "Publishing batches of 100 events, 16 batches in flight (enough to keep every system busy), no subscribers; Streamgate with the SDK's idempotency keys (its default: deduplicated in Redis) and without",
    columns: ["eventsPerSec", "correct", "serverCpuUsPerEvent", "redisCpuUsPerEvent", "clientCpuUsPerEvent", "redisCmdsPerEvent"],
    cases: ({ quick, nats }) => {
      const total = quick ? 20_000 : 200_000;
      const variant = quick ? "20k events" : "200k events";
      const plan = (system: SystemName, keys?: boolean) => ({ system, total, batch: 100, window: 16, keys });
      return [
        ...systems(["streamgate", "bare-grpc", "ioredis", "nats"], nats).map((system) => ({
          scenario: "publish-batch",
          variant,
          system,
          run: (svc: Services) => runPublish(plan(system), svc) as unknown as Promise<Metrics>,
        })),
        {
          scenario: "publish-batch",
          variant: `${variant}, no keys`,
          system: "streamgate" as SystemName,
          run: (svc: Services) => runPublish(plan("streamgate", false), svc) as unknown as Promise<Metrics>,
        },
      ];
    },
  },
  {
    name: "groups-3",
    title: "Consumer group of 3 members (one process each), explicit ack per event, 2,000 events/s",
    columns: [
      "deliveredPerSec",
      "p50",
      "p99",
      "max",
      "correct",
      "minShare",
      "maxShare",
      "serverCpuUsPerEvent",
      "redisCpuUsPerEvent",
      "redisCmdsPerEvent",
    ],
    cases: ({ quick, nats }) =>
      systems(["streamgate", "ioredis", "nats"], nats).map((system) => ({
        scenario: "groups-3",
        variant: quick ? "2k events" : "20k events",
        system,
        run: (svc) => runGroups({ system, members: 3, total: quick ? 2000 : 20_000, rate: 2000 }, svc) as unknown as Promise<Metrics>,
      })),
  },
];
