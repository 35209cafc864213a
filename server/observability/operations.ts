// The operator-facing parts of a server, next to its API: the grpc.health.v1
// service, optional reflection, Redis command timing and the metrics listener.
import type { Server, UntypedServiceImplementation } from "@grpc/grpc-js";
import type { Redis } from "ioredis";
import type { Config } from "../config/loadConfig.js";
import type { Hub } from "../fanout/hub.js";
import type { MemberRegistry } from "../groups/memberRegistry.js";
import { healthHandlers } from "../rpc/health.js";
import { addReflection } from "../rpc/reflection.js";
import { healthService } from "../rpc/serviceDefinitions.js";
import { setTenantLabelLimit } from "./counters.js";
import { Health } from "./health.js";
import type { Logger } from "./logger.js";
import { createMetricsRegistry } from "./metrics.js";
import { type MetricsServer, startMetricsServer } from "./metricsServer.js";
import { timeRedisCommands } from "./timeRedisCommands.js";

export interface Operations {
  health: Health;
  /** host:port of the metrics listener; undefined when STREAMGATE_METRICS_LISTEN=off. */
  metricsAddress: string | undefined;
  /** Shutdown step 1: report NOT_SERVING (keeps serving calls). */
  drain(): void;
  /** Shutdown step 2: end health Watch calls so the gRPC server can finish. */
  endWatches(): void;
  /** Shutdown step 3: stop the metrics listener. */
  close(): Promise<void>;
}

export interface OperationsOptions {
  server: Server;
  config: Config;
  redis: Redis;
  /** The connection appends go through (its commands are timed too). */
  writer: Redis;
  hub: Hub;
  members: MemberRegistry;
  log: Logger;
}

/** Adds health (and reflection if enabled) to `server`, starts Redis health probing and the metrics listener. */
export async function attachOperations({ server, config, redis, writer, hub, members, log }: OperationsOptions): Promise<Operations> {
  timeRedisCommands(redis);
  timeRedisCommands(writer);
  setTenantLabelLimit(config.metricsMaxTenants);
  const health = new Health({ redis, log, intervalMs: config.healthIntervalMs, timeoutMs: config.healthTimeoutMs });
  await health.start();
  server.addService(healthService, healthHandlers(health) as UntypedServiceImplementation);
  if (config.reflection) addReflection(server);

  let metrics: MetricsServer | undefined;
  if (config.metricsListen !== "off") {
    try {
      metrics = await startMetricsServer(config.metricsListen, createMetricsRegistry({ hub, members, health }), log);
    } catch (err) {
      health.stop();
      throw err;
    }
  }
  return {
    health,
    metricsAddress: metrics?.address,
    drain: () => health.drain(),
    endWatches: () => health.stop(),
    close: async () => {
      health.stop();
      await metrics?.close();
    },
  };
}
