import type { Config } from "../config/loadConfig.js";
import type { Hub } from "../fanout/hub.js";
import type { MemberRegistry } from "../groups/memberRegistry.js";
import type { Logger } from "../observability/logger.js";
import type { PublishRate } from "../quotas/publishRate.js";
import type { StreamLeases } from "../quotas/streamLeases.js";
import type { SgRedis } from "../redis/commands.js";
import type { Writer } from "../redis/writer.js";
import type { WriteTrimmer } from "../retention/writeTrimmer.js";
import type { ResolveCaller } from "../tenancy/caller.js";
import type { TierTable } from "../tenancy/tiers.js";

/** What every RPC handler needs. */
export interface RpcContext {
  config: Config;
  redis: SgRedis;
  /** The connection appends go through (never re-sent after a broken connection). */
  writer: Writer;
  hub: Hub;
  log: Logger;
  /** Authenticates a call; every handler but the health check calls it first. */
  resolveCaller: ResolveCaller;
  tiers: TierTable;
  publishRate: PublishRate;
  streamLeases: StreamLeases;
  writeTrimmer: WriteTrimmer;
  /** Open consumer-group members (ended on key revocation and shutdown). */
  members: MemberRegistry;
}
