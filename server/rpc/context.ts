import type { Redis } from "ioredis";
import type { Config } from "../config/loadConfig.js";
import type { Hub } from "../fanout/hub.js";
import type { Logger } from "../observability/logger.js";
import type { ResolveCaller } from "../tenancy/caller.js";

/** What every RPC handler needs. */
export interface RpcContext {
  config: Config;
  redis: Redis;
  hub: Hub;
  log: Logger;
  resolveCaller: ResolveCaller;
}
