// A tier change reaches the tenant's open streams, not only its next calls
// (API keys only: a JWT's tier is fixed by the token). A stream that uses a
// capability the new tier lacks ends with PERMISSION_DENIED naming it; one
// whose delivery would now differ (events must carry empty cursors) ends with
// UNAVAILABLE, so that the client reconnects under the new tier; any other
// stream, upgrades included, stays open. Every check here only compares what a
// stream uses with the tier its tenant is on now, so re-checking twice (a
// change applied directly and again from pub/sub, or the periodic re-check)
// ends nothing more.
import { status } from "@grpc/grpc-js";
import { LAST_CURSOR_TRAILER, StreamgateError } from "../errors.js";
import type { Hub } from "../fanout/hub.js";
import type { Subscription } from "../fanout/subscription.js";
import type { MemberRegistry, OpenMember } from "../groups/memberRegistry.js";
import type { Tier } from "./tiers.js";

/** A tenant's tier as stored: its name, and the tier this server's table defines under it (undefined: none). */
export interface StoredTier {
  name: string;
  tier: Tier | undefined;
}

/** The tiers tenants are on now, by tenant id. */
export type TenantTiers = ReadonlyMap<string, StoredTier>;

/** What a tier change looks at in a subscription. */
export type SubscriptionUse = Pick<Subscription, "owner" | "tenantId" | "start" | "state" | "includeCursor" | "lastSent">;

/** What a tier change looks at in a group member. */
export type MemberUse = Pick<OpenMember, "owner" | "tenant" | "lastCursor">;

function endedAfter(lastCursor: string): string {
  return `it was ended${lastCursor ? ` after cursor ${lastCursor}` : ""}`;
}

function lacking(tier: Tier, capability: string, use: string, lastCursor: string, advice: string): StreamgateError {
  return new StreamgateError(
    status.PERMISSION_DENIED,
    `tier changed to ${tier.name}, which does not include ${capability}: ${use}; ${endedAfter(lastCursor)}. ${advice}`,
    { [LAST_CURSOR_TRAILER]: lastCursor },
  );
}

function undefinedTier(tenant: string, name: string, lastCursor: string): StreamgateError {
  return new StreamgateError(
    status.PERMISSION_DENIED,
    `tenant ${tenant} is now on tier "${name.slice(0, 64)}", which this server's tier table does not define; ${endedAfter(lastCursor)}. Ask an operator to set its tier.`,
    { [LAST_CURSOR_TRAILER]: lastCursor },
  );
}

/** The error a subscription ends with under its tenant's current tier, or undefined when it may stay open. */
export function subscriptionVerdict(sub: SubscriptionUse, tiers: TenantTiers): StreamgateError | undefined {
  if (sub.owner === undefined) return undefined; // not opened with an API key: its tier is not the key store's
  const stored = tiers.get(sub.tenantId);
  if (!stored) return undefined;
  const { tier } = stored;
  if (!tier) return undefinedTier(sub.tenantId, stored.name, sub.lastSent);
  if (sub.start.kind === "after" && !tier.supportsCursor) {
    return lacking(tier, "cursor support", "this stream resumed from a cursor", sub.lastSent, "Reconnect without a cursor.");
  }
  const replaying = sub.start.kind === "beginning" || sub.start.kind === "from";
  if (replaying && sub.state === "catchup" && !tier.supportsReplay) {
    return lacking(
      tier,
      "replay",
      "this stream was still replaying history (from_beginning or from_timestamp)",
      sub.lastSent,
      "Reconnect for live events only.",
    );
  }
  if (sub.includeCursor && !tier.supportsCursor) {
    return new StreamgateError(
      status.UNAVAILABLE,
      `tier changed to ${tier.name}; reconnect. The ${tier.name} tier has no cursor support: its events carry an empty cursor and resuming from a cursor is refused.`,
      { [LAST_CURSOR_TRAILER]: sub.lastSent },
    );
  }
  return undefined;
}

/** The error a consumer-group member ends with under its tenant's current tier, or undefined when it may stay open. */
export function memberVerdict(member: MemberUse, tiers: TenantTiers): StreamgateError | undefined {
  if (member.owner === undefined) return undefined;
  const stored = tiers.get(member.tenant);
  if (!stored) return undefined;
  const { tier } = stored;
  if (!tier) return undefinedTier(member.tenant, stored.name, member.lastCursor());
  if (!tier.supportsConsumerGroups) {
    return lacking(
      tier,
      "consumer groups",
      "this stream was a consumer-group member",
      member.lastCursor(),
      "Read without a consumer group, or move the tenant to a tier with consumer groups.",
    );
  }
  return undefined;
}

/** Ends the open streams (subscriptions and group members) of `tiers`' tenants that their tier no longer allows; returns how many. */
export function recheckTiers(hub: Pick<Hub, "closeWhere">, members: Pick<MemberRegistry, "list">, tiers: TenantTiers): number {
  if (tiers.size === 0) return 0;
  let n = hub.closeWhere((sub) => subscriptionVerdict(sub, tiers));
  for (const m of members.list()) {
    const err = memberVerdict(m, tiers);
    if (!err) continue;
    m.end(err);
    n++;
  }
  return n;
}

/** The tenants with streams opened by an API key (those a key-store tier change can affect). */
export function keyedTenants(hub: Pick<Hub, "subscriptions">, members: Pick<MemberRegistry, "list">): Set<string> {
  const out = new Set<string>();
  for (const sub of hub.subscriptions()) if (sub.owner !== undefined) out.add(sub.tenantId);
  for (const m of members.list()) if (m.owner !== undefined) out.add(m.tenant);
  return out;
}
