import { status } from "@grpc/grpc-js";
import { whenExpired } from "../auth/expiryTimer.js";
import { replayStart } from "../cursors/replayStart.js";
import type { StartAt } from "../cursors/startAt.js";
import { credentialsEnded, StreamgateError } from "../errors.js";
import { StreamOrigin } from "../fanout/feedEvent.js";
import type { EventFilter } from "../filters/eventFilter.js";
import { compileEventFilter } from "../filters/eventFilter.js";
import { type Delivery, GroupMember } from "../groups/groupMember.js";
import { groupStartId, joinGroup } from "../groups/joinGroup.js";
import { checkName, generatedMemberName } from "../groups/names.js";
import type { SgRedis } from "../redis/commands.js";
import { groupKeys, tenantKeys } from "../redis/layout.js";
import { readStreamState } from "../redis/streamState.js";
import type { Caller } from "../tenancy/caller.js";
import type { RpcContext } from "./context.js";

export interface JoinRequest {
  group: string;
  member: string;
  routingKeyFilter: string;
  krefFilter: string;
  /**
   * The request's start position, read only once the tier is known to have consumer groups, so a
   * tier without them is told that, not which start position it also lacks.
   */
  start: () => StartAt;
  maxInFlight: number;
  maxDeliveries: number;
  ackTimeoutMs: number;
  autoAck: boolean;
  deliver(deliveries: Delivery[]): boolean;
  drained(signal: AbortSignal): Promise<void>;
  /** Ends the member's call with an error (key revoked, server shutting down). */
  end(err: StreamgateError): void;
  signal: AbortSignal;
}

/** A joined member, not yet running. */
export interface StartedMember {
  member: GroupMember;
  name: string;
  created: boolean;
  settings: { maxDeliveries: number; ackTimeoutMs: number };
  /**
   * Runs the member until its call ends, holding one of the tenant's stream
   * slots and registered so that revoking its key or shutting down ends it.
   */
  run(): Promise<void>;
}

const MIN_ACK_TIMEOUT_MS = 100;
const MAX_ACK_TIMEOUT_MS = 86_400_000;
const MAX_DELIVERIES = 1000;

/** Checks the caller may use consumer groups at all (the tier's capability). */
export function requireGroups(caller: Caller): void {
  if (!caller.tier.supportsConsumerGroups) {
    throw new StreamgateError(status.PERMISSION_DENIED, `consumer groups are not included in the ${caller.tier.name} tier`);
  }
}

/** Validates, creates or joins the group, and returns a member ready to run. */
export async function startMember(ctx: RpcContext, caller: Caller, req: JoinRequest): Promise<StartedMember> {
  requireGroups(caller);
  const problem = checkName("group", req.group) ?? (req.member ? checkName("member", req.member) : null);
  if (problem) throw new StreamgateError(status.INVALID_ARGUMENT, problem);
  const filter = compileEventFilter(req.routingKeyFilter, req.krefFilter, ctx.config.maxFilterLength);
  if (typeof filter === "string") throw new StreamgateError(status.INVALID_ARGUMENT, filter);
  const startAt = req.start();
  if (startAt.kind === "after") {
    throw new StreamgateError(
      status.INVALID_ARGUMENT,
      "a consumer group tracks its own position: use from_beginning, from_timestamp or from_latest, not a cursor",
    );
  }
  const { config } = ctx;
  if (req.ackTimeoutMs && (req.ackTimeoutMs < MIN_ACK_TIMEOUT_MS || req.ackTimeoutMs > MAX_ACK_TIMEOUT_MS)) {
    throw new StreamgateError(
      status.INVALID_ARGUMENT,
      `ack_timeout_ms must be between ${MIN_ACK_TIMEOUT_MS} and ${MAX_ACK_TIMEOUT_MS}, got ${req.ackTimeoutMs}`,
    );
  }
  if (req.maxDeliveries > MAX_DELIVERIES) {
    throw new StreamgateError(status.INVALID_ARGUMENT, `max_deliveries must be at most ${MAX_DELIVERIES}, got ${req.maxDeliveries}`);
  }
  const redis = ctx.redis as SgRedis;
  const keys = groupKeys(config.keyPrefix, caller.tenantId, req.group);
  const streamKeys = tenantKeys(config.keyPrefix, caller.tenantId);
  // The stream's epoch goes into every delivery's cursor (creating the stream if it has none yet).
  const { epoch } = await readStreamState(redis, streamKeys);
  // A new group starting in the past starts no earlier than the tenant's retention window.
  const start = await replayStart(redis, streamKeys, caller.tier, startAt);
  const { created, settings } = await joinGroup(
    redis,
    keys,
    req.group,
    {
      routingKeyFilter: (filter as EventFilter).routingKeyFilter,
      krefFilter: (filter as EventFilter).krefFilter,
      maxDeliveries: req.maxDeliveries || config.groupMaxDeliveries,
      ackTimeoutMs: req.ackTimeoutMs || config.groupAckTimeoutMs,
    },
    groupStartId(start),
  );
  const name = req.member || generatedMemberName(req.autoAck ? "kumiho" : "member");
  const member = new GroupMember({
    redis,
    keys,
    group: req.group,
    member: name,
    origin: new StreamOrigin(caller.tenantId, epoch),
    filter,
    settings,
    maxInFlight: Math.min(req.maxInFlight || config.groupMaxInFlight, config.groupMaxInFlight),
    readBatch: config.readBatch,
    claimIntervalMs: Math.min(config.groupClaimIntervalMs, settings.ackTimeoutMs),
    dlqMaxLen: config.groupDlqMaxLen,
    autoAck: req.autoAck,
    deliver: req.deliver,
    drained: req.drained,
    signal: req.signal,
    log: ctx.log.child({ group: req.group, member: name }),
  });
  return {
    member,
    name,
    created,
    settings,
    async run() {
      if (req.signal.aborted) return;
      const lease = await ctx.streamLeases.acquire(tenantKeys(config.keyPrefix, caller.tenantId).streams, caller.tenantId, caller.tier);
      let unregister = () => {};
      let cancelExpiry = () => {};
      try {
        unregister = ctx.members.add({
          owner: caller.keyId,
          tenant: caller.tenantId,
          lastCursor: () => member.lastDelivered,
          end: req.end,
        });
        cancelExpiry = whenExpired(caller.expiresAt, () => req.end(credentialsEnded("the token expired", member.lastDelivered)));
        await member.run();
      } finally {
        cancelExpiry();
        unregister();
        lease.release();
      }
    },
  };
}
