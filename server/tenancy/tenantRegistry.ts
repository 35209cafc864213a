import type { Redis } from "ioredis";
import { adminKeys } from "../redis/layout.js";

/**
 * Records which tenants exist and their tier in Redis (the `tenants` hash the
 * retention sweep walks). In key mode the key store writes it; in jwt and
 * none mode the server notes each tenant it sees, once per tenant and tier.
 */
export class TenantRegistry {
  private readonly noted = new Map<string, string>();
  private readonly hash: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.hash = adminKeys(prefix).tenants;
  }

  /** Records `tenant` on `tier` unless this process already did. */
  async note(tenant: string, tier: string): Promise<void> {
    if (this.noted.get(tenant) === tier) return;
    await this.redis.hset(this.hash, tenant, tier);
    this.noted.set(tenant, tier);
  }
}
