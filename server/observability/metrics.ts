// The Prometheus metrics a Streamgate process exports.
//
// Why prom-client (pinned) and not a hand-written exposition: the text format
// has escaping and histogram rules that are easy to get subtly wrong, and
// prom-client's default collectors give the standard process_* and nodejs_*
// series (CPU, memory, file descriptors, event-loop lag, GC) that existing
// dashboards and alerts expect, which would otherwise be a second module to
// write and keep right. It costs two small dependencies and is only used at
// scrape time and off the per-subscriber path: the fan-out counts into plain
// numbers (counters.ts) that are read here when Prometheus scrapes.
import { status as grpcStatus } from "@grpc/grpc-js";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Hub } from "../fanout/hub.js";
import type { MemberRegistry } from "../groups/memberRegistry.js";
import { counters, type TenantTally, tenantCounters } from "./counters.js";
import type { Health } from "./health.js";

/** Round-trip time of each command on the main Redis connection (see timeRedisCommands.ts). */
export const redisCommandSeconds = new Histogram({
  name: "streamgate_redis_command_duration_seconds",
  help: "Redis command round-trip time by command (blocking XREADs of the shared readers excluded).",
  labelNames: ["command"],
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [],
});

/** Completed RPCs by method path and final status (see requestLog.ts). */
export const rpcsTotal = new Counter({
  name: "streamgate_rpcs_total",
  help: "Completed RPCs by method and gRPC status code.",
  labelNames: ["method", "code"],
  registers: [],
});

/** RPCs that failed, by status: everything but OK and CANCELLED (how a client ends a subscription it no longer wants). */
export const rpcErrorsTotal = new Counter({
  name: "streamgate_rpc_errors_total",
  help: "RPCs that ended with a gRPC status other than OK or CANCELLED, by code.",
  labelNames: ["code"],
  registers: [],
});

/** Counts one finished RPC. */
export function countRpc(method: string, code: grpcStatus): void {
  const name = grpcStatus[code] ?? String(code);
  rpcsTotal.inc({ method, code: name });
  if (code !== grpcStatus.OK && code !== grpcStatus.CANCELLED) rpcErrorsTotal.inc({ code: name });
}

export interface MetricsSources {
  hub: Hub;
  /** Consumer-group members: open streams too, but outside the hub. */
  members: Pick<MemberRegistry, "size">;
  health: Health;
}

/** A registry with every Streamgate metric plus the default process and Node.js metrics. */
export function createMetricsRegistry({ hub, members, health }: MetricsSources): Registry {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  registry.registerMetric(redisCommandSeconds);
  registry.registerMetric(rpcsTotal);
  registry.registerMetric(rpcErrorsTotal);

  tenantCounter(registry, "streamgate_events_published_total", "Events appended, by tenant.", tenantCounters.published);
  tenantCounter(
    registry,
    "streamgate_events_delivered_total",
    "Events handed to subscribers' connections, by tenant.",
    tenantCounters.delivered,
  );
  totalCounter(
    registry,
    "streamgate_slow_consumer_catchups_total",
    "Subscribers that overflowed their queue and continued from Redis.",
    () => counters.slowConsumerCatchUps,
  );
  totalCounter(
    registry,
    "streamgate_slow_consumer_disconnects_total",
    "Subscribers ended because they fell behind the retention window.",
    () => counters.slowConsumerDisconnects,
  );
  totalCounter(
    registry,
    "streamgate_undecodable_entries_total",
    "Stream entries skipped because they are not valid events.",
    () => counters.undecodableEntries,
  );
  totalCounter(
    registry,
    "streamgate_publish_deduplicated_total",
    "Published events not appended again because their idempotency key was within the duplicate window.",
    () => counters.publishDeduplicated,
  );
  totalCounter(
    registry,
    "streamgate_history_lost_total",
    "Resumes refused and streams ended with DATA_LOSS because the stream's history changed under them (Redis lost or rolled back data).",
    () => counters.historyLost,
  );
  totalCounter(
    registry,
    "streamgate_epoch_changes_total",
    "Times a shared reader found its stream created again or rolled back, and moved to the new epoch.",
    () => counters.epochChanges,
  );
  totalCounter(
    registry,
    "streamgate_feed_gaps_total",
    "Times retention trimmed events before a shared reader read them (its live subscribers were ended).",
    () => counters.feedGaps,
  );
  totalCounter(
    registry,
    "streamgate_group_dead_lettered_total",
    "Consumer-group events moved to a dead-letter stream after max deliveries.",
    () => counters.deadLettered,
  );
  totalCounter(
    registry,
    "streamgate_group_trimmed_pending_total",
    "Pending consumer-group entries acknowledged because their event had been trimmed.",
    () => counters.trimmedPending,
  );

  new Gauge({
    name: "streamgate_active_streams",
    help: "Open event streams: EventStream and Subscribe subscriptions, and consumer-group members (Consume, or EventStream with consumer_group).",
    registers,
    collect() {
      this.set(hub.subscriberCount + members.size);
    },
  });
  new Gauge({
    name: "streamgate_group_members",
    help: "Open consumer-group members (Consume calls, and EventStream calls with consumer_group).",
    registers,
    collect() {
      this.set(members.size);
    },
  });
  new Gauge({
    name: "streamgate_subscribers",
    help: "Open subscriptions by phase: catchup (reading history from Redis) or live (fed by the shared reader).",
    labelNames: ["phase"],
    registers,
    collect() {
      let catchup = 0;
      let live = 0;
      for (const sub of hub.subscriptions()) {
        if (sub.state === "catchup") catchup++;
        else if (sub.state === "live") live++;
      }
      this.set({ phase: "catchup" }, catchup);
      this.set({ phase: "live" }, live);
    },
  });
  new Gauge({
    name: "streamgate_stream_readers",
    help: "Shared blocking readers running (one per tenant stream with subscribers).",
    registers,
    collect() {
      this.set(hub.feedCount);
    },
  });
  new Histogram({
    name: "streamgate_subscriber_queue_depth",
    help: "Events queued per subscriber, sampled at scrape time (a snapshot, not cumulative: read buckets directly, not with rate()).",
    buckets: [0, 1, 10, 100, 1000, 10_000, 100_000],
    registers,
    collect() {
      this.reset();
      for (const sub of hub.subscriptions()) this.observe(sub.queueDepth);
    },
  });
  new Gauge({
    name: "streamgate_serving",
    help: "1 when the health service reports SERVING (Redis reachable, not draining), else 0.",
    registers,
    collect() {
      this.set(health.status === "SERVING" ? 1 : 0);
    },
  });
  return registry;
}

// Counters whose value lives in counters.ts: set to the tally at each scrape.
function totalCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

function tenantCounter(registry: Registry, name: string, help: string, tally: TenantTally): void {
  new Counter({
    name,
    help,
    labelNames: ["tenant"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [tenant, n] of tally.entries()) this.inc({ tenant }, n);
    },
  });
}
