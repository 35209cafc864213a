// API keys and tenant tiers in Redis (layout: redis/layout.ts, adminKeys).
// Used by the Admin service, the `streamgate keys` command and, for lookups,
// by key authentication. Every change is announced on the auth-changes
// channel so that servers drop cached keys, end a revoked key's streams and
// re-check a tenant's open streams against its new tier.
import { status } from "@grpc/grpc-js";
import { StreamgateError } from "../errors.js";
import type { SgRedis } from "../redis/commands.js";
import { type AdminKeys, adminKeys, tenantKeys } from "../redis/layout.js";
import { trimStream } from "../retention/trimStream.js";
import type { StoredTier } from "../tenancy/recheckTiers.js";
import { tenantIdProblem } from "../tenancy/tenantId.js";
import { type Tier, type TierTable, tierByName } from "../tenancy/tiers.js";
import { hashToken, looksLikeToken, newKeyId, newToken, secretsEqual } from "./apiKeyToken.js";

/** An API key as listed: never its token or hash. */
export interface ApiKeyInfo {
  id: string;
  tenant: string;
  /** The tenant's tier (a tier belongs to the tenant, so all its keys share it). */
  tier: string;
  name: string;
  /** ISO-8601 creation time. */
  createdAt: string;
}

/** A new key: the only time its token is ever available. */
export interface CreatedKey extends ApiKeyInfo {
  token: string;
  /** The tenant's tier before this call, when the call changed it. */
  previousTier?: string;
}

/** What a valid token resolves to. */
export interface ResolvedKey {
  id: string;
  tenant: string;
  tier: Tier;
}

/** A change announced on the auth-changes channel. */
export type AuthChange = { type: "revoke"; keyId: string } | { type: "tier"; tenant: string };

interface KeyRecord {
  id: string;
  tenant: string;
  name: string;
  createdAt: string;
  hash: string;
}

const KEY_ID = /^key_[0-9a-f]{16}$/;
const MAX_NAME = 200;

function invalid(message: string): StreamgateError {
  return new StreamgateError(status.INVALID_ARGUMENT, message);
}

/** Keys and tiers of every tenant, in the Redis the servers use. */
export class KeyStore {
  readonly keys: AdminKeys;

  constructor(
    private readonly redis: SgRedis,
    private readonly prefix: string,
    private readonly tiers: TierTable,
    /** Called after each change is announced (a server applies its own changes without waiting for pub/sub). */
    private readonly onChange?: (change: AuthChange) => void,
  ) {
    this.keys = adminKeys(prefix);
  }

  /**
   * Creates a key for `tenant`. The tenant's tier becomes `tier`: for a tenant
   * that already exists on another tier this changes the tier of all its keys
   * (reported as `previousTier`).
   */
  async create(opts: { tenant: string; tier: string; name?: string }): Promise<CreatedKey> {
    const problem = tenantIdProblem(opts.tenant);
    if (problem) throw invalid(problem);
    const tier = this.tier(opts.tier);
    const name = opts.name ?? "";
    if (name.length > MAX_NAME) throw invalid(`name is longer than ${MAX_NAME} characters`);
    const token = newToken();
    const record: KeyRecord = { id: newKeyId(), tenant: opts.tenant, name, createdAt: new Date().toISOString(), hash: hashToken(token) };
    const res = await this.redis
      .multi()
      .hget(this.keys.tenants, record.tenant)
      .hset(this.keys.keys, record.id, JSON.stringify(record))
      .hset(this.keys.keyHashes, record.hash, record.id)
      .hset(this.keys.tenants, record.tenant, tier.name)
      .exec();
    const previous = res?.[0]?.[1] as string | null | undefined;
    const created: CreatedKey = { ...info(record, tier.name), token };
    if (previous && previous !== tier.name) {
      created.previousTier = previous;
      await this.tierChanged(record.tenant, tier);
    }
    return created;
  }

  /** Every key (of `tenant`, when given), oldest first, without secrets. */
  async list(tenant?: string): Promise<ApiKeyInfo[]> {
    if (tenant !== undefined) {
      const problem = tenantIdProblem(tenant);
      if (problem) throw invalid(problem);
    }
    const [[, records], [, tiers]] = (await this.redis.multi().hgetall(this.keys.keys).hgetall(this.keys.tenants).exec()) as [
      [null, Record<string, string>],
      [null, Record<string, string>],
    ];
    return Object.values(records)
      .map((json) => JSON.parse(json) as KeyRecord)
      .filter((r) => tenant === undefined || r.tenant === tenant)
      .map((r) => info(r, tiers[r.tenant] ?? ""))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** Deletes a key; new calls with it fail at once and servers end its open streams. */
  async revoke(id: string): Promise<ApiKeyInfo> {
    const record = await this.record(id);
    const [, [, tier]] = (await this.redis
      .multi()
      .hdel(this.keys.keyHashes, record.hash)
      .hget(this.keys.tenants, record.tenant)
      .hdel(this.keys.keys, record.id)
      .exec()) as [unknown, [null, string | null], unknown];
    await this.announce({ type: "revoke", keyId: record.id });
    return info(record, tier ?? "");
  }

  /**
   * Moves the tenant of key `keyId` (or `tenant`) to `tier`: its limits change from the next call on, and
   * servers end the open streams that use what the new tier lacks (see tenancy/recheckTiers.ts).
   */
  async setTier(
    target: { keyId: string } | { tenant: string },
    tierName: string,
  ): Promise<{ tenant: string; tier: string; previousTier: string }> {
    const tier = this.tier(tierName);
    let tenant: string;
    if ("keyId" in target) tenant = (await this.record(target.keyId)).tenant;
    else {
      const problem = tenantIdProblem(target.tenant);
      if (problem) throw invalid(problem);
      tenant = target.tenant;
    }
    const previous = await this.redis.hget(this.keys.tenants, tenant);
    if (previous === null && !("keyId" in target)) {
      throw new StreamgateError(status.NOT_FOUND, `tenant ${tenant} is not known here (create a key for it first)`);
    }
    if (previous !== tier.name) {
      await this.redis.hset(this.keys.tenants, tenant, tier.name);
      await this.tierChanged(tenant, tier);
    }
    return { tenant, tier: tier.name, previousTier: previous ?? "" };
  }

  /** The key a token belongs to, or null for any token that is not a live key. */
  async lookup(token: string): Promise<ResolvedKey | null> {
    return looksLikeToken(token) ? this.lookupHash(hashToken(token)) : null;
  }

  /** {@link lookup} by the token's hex SHA-256. */
  async lookupHash(hash: string): Promise<ResolvedKey | null> {
    const found = await this.redis.sgLookupKey(this.keys.keyHashes, this.keys.keys, this.keys.tenants, hash);
    if (!found) return null;
    const record = JSON.parse(found[0]) as KeyRecord;
    if (!secretsEqual(record.hash, hash)) return null;
    const tier = found[1] ? tierByName(this.tiers, found[1]) : undefined;
    if (!tier) {
      throw new StreamgateError(
        status.PERMISSION_DENIED,
        `tenant ${record.tenant} is on tier "${found[1] ?? ""}", which this server's tier table does not define; ask an operator to set its tier`,
      );
    }
    return { id: record.id, tenant: record.tenant, tier };
  }

  /** The tiers `tenants` are on now; tenants this store does not know are left out. */
  async currentTiers(tenants: readonly string[]): Promise<Map<string, StoredTier>> {
    const out = new Map<string, StoredTier>();
    if (tenants.length === 0) return out;
    const names = await this.hmget(this.keys.tenants, tenants);
    tenants.forEach((tenant, i) => {
      const name = names[i];
      if (typeof name === "string") out.set(tenant, { name, tier: tierByName(this.tiers, name) });
    });
    return out;
  }

  /** Which of `ids` no longer exist (revoked). */
  async missing(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const found = await this.hmget(this.keys.keys, ids);
    return ids.filter((_, i) => found[i] === null);
  }

  /** HMGET of any number of fields, in commands of at most 1,000 (never spreading more as arguments). */
  private async hmget(key: string, fields: readonly string[]): Promise<(string | null)[]> {
    const out: (string | null)[] = [];
    for (let i = 0; i < fields.length; i += 1000) out.push(...(await this.redis.hmget(key, ...fields.slice(i, i + 1000))));
    return out;
  }

  private tier(name: string): Tier {
    const tier = tierByName(this.tiers, name);
    if (!tier) throw invalid(`unknown tier "${name.slice(0, 64)}"; tiers here: ${Object.keys(this.tiers).join(", ")}`);
    return tier;
  }

  private async record(id: string): Promise<KeyRecord> {
    const json = KEY_ID.test(id) ? await this.redis.hget(this.keys.keys, id) : null;
    if (!json) throw new StreamgateError(status.NOT_FOUND, `no API key with id ${JSON.stringify(id.slice(0, 64))}`);
    return JSON.parse(json) as KeyRecord;
  }

  private async tierChanged(tenant: string, tier: Tier): Promise<void> {
    // A smaller buffer or window applies at once, not at the next publish or sweep.
    await trimStream(this.redis, tenantKeys(this.prefix, tenant), tier);
    await this.announce({ type: "tier", tenant });
  }

  private async announce(change: AuthChange): Promise<void> {
    await this.redis.publish(this.keys.authChanges, JSON.stringify(change));
    this.onChange?.(change);
  }
}

function info(r: KeyRecord, tier: string): ApiKeyInfo {
  return { id: r.id, tenant: r.tenant, tier, name: r.name, createdAt: r.createdAt };
}
