// Trims every known tenant's stream on a timer, so that a stream nobody
// writes to still loses what falls out of its retention window. The tenants
// come from the registry hash; one replica sweeps per period (a short lock).
import { randomBytes } from "node:crypto";
import type { Logger } from "../observability/logger.js";
import type { SgRedis } from "../redis/commands.js";
import { adminKeys, tenantKeys } from "../redis/layout.js";
import { isTenantId } from "../tenancy/tenantId.js";
import { type TierTable, tierByName } from "../tenancy/tiers.js";
import { trimStream } from "./trimStream.js";

export interface SweepOptions {
  redis: SgRedis;
  prefix: string;
  tiers: TierTable;
  log: Logger;
  /** Period in ms; 0 disables the timer. */
  everyMs: number;
}

export class RetentionSweep {
  private readonly id = randomBytes(6).toString("hex");
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(private readonly opts: SweepOptions) {}

  start(): void {
    if (this.opts.everyMs <= 0) return;
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .catch((err: unknown) => this.opts.log.warn({ err }, "retention sweep failed; will retry"))
        .finally(() => {
          this.running = undefined;
        });
    }, this.opts.everyMs);
    this.timer.unref();
  }

  /**
   * Trims every registered tenant's stream unless another replica swept in the
   * last half period. Resolves with the tenants visited and entries removed.
   */
  async sweep(): Promise<{ tenants: number; removed: number }> {
    const { redis, prefix, tiers, log } = this.opts;
    const admin = adminKeys(prefix);
    const lockMs = Math.max(1, Math.floor(this.opts.everyMs / 2));
    if ((await redis.set(admin.sweepLock, this.id, "PX", lockMs, "NX")) === null) return { tenants: 0, removed: 0 };
    let cursor = "0";
    let tenants = 0;
    let removed = 0;
    const now = Date.now();
    do {
      const [next, flat] = await redis.hscan(admin.tenants, cursor, "COUNT", 200);
      cursor = next;
      const trims: Promise<number>[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const tenant = flat[i] as string;
        const tier = tierByName(tiers, flat[i + 1] as string);
        if (!isTenantId(tenant)) continue;
        if (!tier) {
          log.warn({ tenant, tier: flat[i + 1] }, "tenant is on a tier this server does not define; not trimming its stream");
          continue;
        }
        tenants++;
        trims.push(trimStream(redis, tenantKeys(prefix, tenant), tier, now));
      }
      for (const n of await Promise.all(trims)) removed += n;
    } while (cursor !== "0");
    if (removed > 0) log.debug({ tenants, removed }, "retention sweep trimmed streams");
    return { tenants, removed };
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
