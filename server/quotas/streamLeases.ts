// Per-tenant concurrent streams, counted in Redis so the limit holds across
// replicas. Each open stream holds a lease in the tenant's sorted set
// (redis/scripts/acquireStream.lua) that this process renews while the stream
// is open; a replica that dies stops renewing and its leases expire.
import { randomBytes } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { StreamgateError } from "../errors.js";
import type { Logger } from "../observability/logger.js";
import type { SgRedis } from "../redis/commands.js";
import type { Tier } from "../tenancy/tiers.js";

/** How long a lease lives without renewal: a dead replica's streams stop counting after this. */
export const LEASE_TTL_MS = 30_000;
const RENEW_EVERY_MS = 10_000;

/** A held slot; release it when the stream ends (idempotent). */
export interface StreamLease {
  release(): void;
}

const NO_LEASE: StreamLease = { release: () => {} };

export class StreamLeases {
  private readonly replica = randomBytes(6).toString("hex");
  private seq = 0;
  /** Held leases by lease-set key. */
  private readonly held = new Map<string, Set<string>>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly redis: SgRedis,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.renew(), RENEW_EVERY_MS);
    this.timer.unref();
  }

  /**
   * Takes one of the tenant's stream slots, or throws RESOURCE_EXHAUSTED naming the limit. A tier
   * without a limit takes no slot: nothing to count, so no Redis round trip and no lease to renew.
   */
  async acquire(leaseSet: string, tenant: string, tier: Tier): Promise<StreamLease> {
    if (tier.maxConcurrentStreams < 0) return NO_LEASE;
    const member = `${this.replica}:${++this.seq}`;
    const [granted, open] = await this.redis.sgAcquireStream(leaseSet, member, tier.maxConcurrentStreams, LEASE_TTL_MS);
    if (!granted) {
      throw new StreamgateError(
        status.RESOURCE_EXHAUSTED,
        `tenant ${tenant} has ${open} open streams, the ${tier.name} tier's limit of concurrent streams (${tier.maxConcurrentStreams}); close one first`,
      );
    }
    let set = this.held.get(leaseSet);
    if (!set) {
      set = new Set();
      this.held.set(leaseSet, set);
    }
    set.add(member);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        set.delete(member);
        if (set.size === 0 && this.held.get(leaseSet) === set) this.held.delete(leaseSet);
        this.redis
          .zrem(leaseSet, member)
          .catch((err: unknown) => this.log.warn({ err }, "releasing a stream lease failed; it will expire"));
      },
    };
  }

  private async renew(): Promise<void> {
    await Promise.all(
      [...this.held].map(([leaseSet, members]) =>
        this.redis
          .sgRenewStreams(leaseSet, LEASE_TTL_MS, ...members)
          .catch((err: unknown) => this.log.warn({ err }, "renewing stream leases failed; will retry")),
      ),
    );
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
