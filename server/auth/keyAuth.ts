// STREAMGATE_AUTH=keys: bearer tokens are API keys from the key store.
//
// Resolved keys are cached for `cacheMs`, but a revocation or tier change is
// announced on Redis pub/sub and drops the cache entry at once; while the
// pub/sub connection is down nothing is cached. The open streams of a revoked
// key are ended through `onRevoked`; after a tier change the tenant's current
// tier is read from Redis (never taken from the message, which may arrive late)
// and its open streams are re-checked through `onTiers`. A periodic re-check of
// the keys and tenant tiers of open streams catches a message that was missed,
// and a stream that opened with a tier resolved just before a change.
import { status } from "@grpc/grpc-js";
import type { Redis } from "ioredis";
import { StreamgateError } from "../errors.js";
import type { Logger } from "../observability/logger.js";
import { bearerToken, type ResolveCaller } from "../tenancy/caller.js";
import type { TenantTiers } from "../tenancy/recheckTiers.js";
import { hashToken, looksLikeToken, TOKEN_PREFIX } from "./apiKeyToken.js";
import type { AuthChange, KeyStore, ResolvedKey } from "./keyStore.js";

/** Most cached keys; the oldest entry goes first. */
const MAX_CACHED = 10_000;

export interface KeyAuthOptions {
  store: KeyStore;
  /** A connection to duplicate for the pub/sub subscription. */
  redis: Redis;
  log: Logger;
  cacheMs: number;
  recheckMs: number;
  /** Ends the open streams of a revoked key. */
  onRevoked: (keyId: string) => void;
  /** Ids of the keys that have open streams now. */
  openKeyIds: () => Iterable<string>;
  /** Re-checks the open streams of these tenants against their current tiers; returns how many it ended. */
  onTiers: (tiers: TenantTiers) => number;
  /** Tenants with streams opened by an API key now. */
  openTenants: () => Iterable<string>;
}

export class KeyAuth {
  private readonly cache = new Map<string, { key: ResolvedKey; until: number }>();
  private subscriber: Redis | undefined;
  private listening = false;
  private subscribed = false;
  /** Bumped by every change, so a lookup that raced with one is not cached. */
  private epoch = 0;
  private recheck: NodeJS.Timeout | undefined;

  constructor(private readonly opts: KeyAuthOptions) {}

  /** Subscribes to key changes and starts the periodic re-check. */
  async start(): Promise<void> {
    const sub = this.opts.redis.duplicate({ connectionName: "streamgate-auth" });
    this.subscriber = sub;
    sub.on("error", () => {}); // reconnects by itself; while down nothing is cached
    sub.on("close", () => {
      this.listening = false;
      this.epoch++;
      this.cache.clear();
    });
    // After a reconnect, messages sent meanwhile are lost: start from an empty cache and re-check open streams.
    sub.on("ready", () => {
      if (!this.subscribed) return;
      this.epoch++;
      this.cache.clear();
      this.listening = true;
      void this.recheckOpenStreams();
    });
    sub.on("message", (_channel: string, message: string) => {
      try {
        this.apply(JSON.parse(message) as AuthChange);
      } catch (err) {
        this.opts.log.warn({ err }, "ignoring malformed auth-change message");
      }
    });
    await sub.subscribe(this.opts.store.keys.authChanges);
    this.subscribed = true;
    this.listening = true;
    this.recheck = setInterval(() => void this.recheckOpenStreams(), this.opts.recheckMs);
    this.recheck.unref();
  }

  /** Applies a key change made anywhere (this process calls it directly too, so it never waits for pub/sub). */
  apply(change: AuthChange): void {
    this.epoch++;
    if (change.type === "revoke") {
      for (const [hash, entry] of this.cache) if (entry.key.id === change.keyId) this.cache.delete(hash);
      this.opts.onRevoked(change.keyId);
    } else if (change.type === "tier") {
      for (const [hash, entry] of this.cache) if (entry.key.tenant === change.tenant) this.cache.delete(hash);
      void this.recheckTiers([change.tenant]);
    }
  }

  readonly resolveCaller: ResolveCaller = async (metadata) => {
    const token = bearerToken(metadata);
    if (!looksLikeToken(token)) {
      throw new StreamgateError(status.UNAUTHENTICATED, `not a valid API key (keys look like ${TOKEN_PREFIX}... and are 46 characters)`);
    }
    const hash = hashToken(token);
    const now = Date.now();
    const cached = this.cache.get(hash);
    let key = cached && cached.until > now ? cached.key : undefined;
    if (!key) {
      const epoch = this.epoch;
      const found = await this.opts.store.lookupHash(hash);
      if (!found) throw new StreamgateError(status.UNAUTHENTICATED, "unknown or revoked API key");
      key = found;
      if (this.listening && this.opts.cacheMs > 0 && epoch === this.epoch) {
        this.cache.delete(hash);
        if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string);
        this.cache.set(hash, { key, until: now + this.opts.cacheMs });
      }
    }
    return { tenantId: key.tenant, tier: key.tier, keyId: key.id };
  };

  private async recheckOpenStreams(): Promise<void> {
    const ids = [...new Set(this.opts.openKeyIds())];
    if (ids.length > 0) {
      try {
        for (const id of await this.opts.store.missing(ids)) this.apply({ type: "revoke", keyId: id });
      } catch (err) {
        this.opts.log.warn({ err }, "re-checking the API keys of open streams failed; will retry");
      }
    }
    await this.recheckTiers(this.opts.openTenants());
  }

  /** Reads the current tiers of `tenants` and ends their open streams that those tiers no longer allow. */
  private async recheckTiers(tenants: Iterable<string>): Promise<void> {
    const list = [...new Set(tenants)];
    if (list.length === 0) return;
    try {
      const tiers = await this.opts.store.currentTiers(list);
      const ended = this.opts.onTiers(tiers);
      if (ended > 0) {
        const named = [...tiers].slice(0, 20).map(([tenant, { name }]) => `${tenant}:${name}`);
        this.opts.log.info({ tiers: named, streams: ended }, "ended open streams that their tenant's current tier does not allow");
      }
    } catch (err) {
      this.opts.log.warn({ err }, "re-checking open streams against their tenants' tiers failed; will retry");
    }
  }

  async close(): Promise<void> {
    if (this.recheck) clearInterval(this.recheck);
    this.listening = false;
    this.subscriber?.disconnect();
  }
}
