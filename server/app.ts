// Assembles a Streamgate server: Redis connection, shared fan-out hub and the
// gRPC services. Used by main.ts and, in-process, by the tests and the bench.
import { setTimeout as sleep } from "node:timers/promises";
import { Server, ServerCredentials, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { type Auth, checkAuthConfig, createAuth } from "./auth/createAuth.js";
import { KeyStore } from "./auth/keyStore.js";
import { joinHostPort, splitHostPort } from "./config/hostPort.js";
import type { Config } from "./config/loadConfig.js";
import { listenFailed, redisConnectFailed } from "./config/startError.js";
import { credentialsEnded } from "./errors.js";
import { Hub } from "./fanout/hub.js";
import { batchSink, singleEventSink } from "./fanout/sinks.js";
import { MemberRegistry } from "./groups/memberRegistry.js";
import { routeGrpcLogs } from "./observability/grpcLogs.js";
import type { Health } from "./observability/health.js";
import type { Logger } from "./observability/logger.js";
import { attachOperations, type Operations } from "./observability/operations.js";
import { rememberingCaller, requestLogInterceptor } from "./observability/requestLog.js";
import { PublishRate } from "./quotas/publishRate.js";
import { StreamLeases } from "./quotas/streamLeases.js";
import type { SgRedis } from "./redis/commands.js";
import { mainConnection } from "./redis/connections.js";
import { Writer } from "./redis/writer.js";
import { RetentionSweep } from "./retention/retentionSweep.js";
import { WriteTrimmer } from "./retention/writeTrimmer.js";
import { adminHandlers } from "./rpc/admin.js";
import { capabilitiesHandler } from "./rpc/capabilities.js";
import { consumeHandler } from "./rpc/consume.js";
import type { RpcContext } from "./rpc/context.js";
import { eventStreamHandler, shuttingDown } from "./rpc/eventStream.js";
import { groupAdminHandlers } from "./rpc/groupAdmin.js";
import { installGrpcJsHooks } from "./rpc/grpcJsHooks.js";
import { HEALTH_SERVICE_NAME } from "./rpc/health.js";
import { refusingInvalidMetadata } from "./rpc/invalidMetadata.js";
import { publishBatchHandler, publishHandler } from "./rpc/publish.js";
import { refuseMalformedRequests } from "./rpc/refuseMalformedRequests.js";
import { adminService, consumerGroupsService, kumihoService, streamgateService } from "./rpc/serviceDefinitions.js";
import type { ResolveCaller } from "./tenancy/caller.js";
import { loadTiers } from "./tenancy/loadTiers.js";
import { keyedTenants, recheckTiers } from "./tenancy/recheckTiers.js";

export interface Streamgate {
  /** The bound port (useful with port 0). */
  port: number;
  /** host:port clients can dial. */
  address: string;
  hub: Hub;
  /** Open consumer-group members. */
  members: MemberRegistry;
  redis: SgRedis;
  /** The connection appends go through; `waitingBytes` is what publishes hold while Redis answers. */
  writer: Writer;
  /** What grpc.health.v1 reports. */
  health: Health;
  /** host:port of the Prometheus listener; undefined when it is off. */
  metricsAddress: string | undefined;
  /** API keys and tiers (what the Admin service and `streamgate keys` use), and the retention sweep. */
  tenancy: { keyStore: KeyStore; retentionSweep: RetentionSweep };
  /**
   * Graceful stop: report NOT_SERVING (and keep serving calls for STREAMGATE_DRAIN_DELAY_MS), refuse
   * new calls, end open streams with UNAVAILABLE and their last cursor, wait up to `graceMs` for calls
   * to finish, then force.
   */
  close(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  config: Config;
  log: Logger;
  redisUrl: string;
  /** Replaces STREAMGATE_AUTH's authentication (tests, embedding). */
  resolveCaller?: ResolveCaller;
}

export async function startStreamgate({ config, log, redisUrl, resolveCaller }: StartOptions): Promise<Streamgate> {
  const tiers = loadTiers(config.tiersFile);
  checkAuthConfig(config, tiers);
  routeGrpcLogs(log);
  installGrpcJsHooks();
  // Every command is bounded: while Redis is down or stuck, callers get UNAVAILABLE instead of waiting.
  const redis = mainConnection(redisUrl, config.redisTimeoutMs);
  // ioredis rejects connect() with a bare "Connection is closed."; the reason came with the last error event.
  let connectError: Error | undefined;
  redis.on("error", (err) => {
    connectError = err;
    log.warn({ err: err.message }, "redis connection error");
  });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect(); // stops ioredis retrying in the background
    throw redisConnectFailed(redisUrl, redisUrl === config.redisUrl, connectError ?? (err as Error));
  }
  // Everything started from here on is stopped again if a later step fails (nothing keeps the process alive).
  const undo: (() => unknown)[] = [() => redis.disconnect()];
  try {
    const writer = new Writer(redis, {
      commandTimeoutMs: config.redisTimeoutMs,
      waitReplicas: config.waitReplicas,
      waitTimeoutMs: config.waitTimeoutMs,
      maxInflightBytes: config.publishInflightBytes,
    });
    undo.push(() => writer.disconnect());
    await writer.connect();

    const hub = new Hub({
      redis,
      log,
      readBatch: config.readBatch,
      readBytes: config.readBytes,
      lingerMs: config.feedLingerMs,
      batchMs: config.feedBatchMs,
    });
    const members = new MemberRegistry(config.groupMaxMembers, config.groupMaxMembersPerTenant);
    let auth: Auth | undefined;
    const keyStore = new KeyStore(redis, config.keyPrefix, tiers, (change) => auth?.apply(change));
    auth = await createAuth({
      config,
      redis,
      log,
      tiers,
      store: keyStore,
      onRevoked: (keyId) => {
        const n =
          hub.closeOwnedBy(keyId, (sub) => credentialsEnded(`API key ${keyId} was revoked`, sub.lastSent)) +
          members.closeOwnedBy(keyId, (m) => credentialsEnded(`API key ${keyId} was revoked`, m.lastCursor()));
        if (n > 0) log.info({ keyId, streams: n }, "ended the streams of a revoked API key");
      },
      openKeyIds: () => new Set([...hub.owners(), ...members.owners()]),
      onTiers: (tiers) => recheckTiers(hub, members, tiers),
      openTenants: () => keyedTenants(hub, members),
    });
    undo.push(() => auth?.close());
    const streamLeases = new StreamLeases(redis, log);
    const retentionSweep = new RetentionSweep({ redis, prefix: config.keyPrefix, tiers, log, everyMs: config.retentionSweepMs });
    retentionSweep.start();
    undo.push(
      () => retentionSweep.stop(),
      () => streamLeases.stop(),
    );
    const ctx: RpcContext = {
      config,
      redis,
      writer,
      hub,
      log,
      resolveCaller: rememberingCaller(refusingInvalidMetadata(resolveCaller ?? auth.resolveCaller)),
      tiers,
      publishRate: new PublishRate(),
      streamLeases,
      writeTrimmer: new WriteTrimmer(),
      members,
    };

    const server = new Server({
      "grpc.keepalive_time_ms": config.keepaliveTimeMs,
      "grpc.keepalive_timeout_ms": config.keepaliveTimeoutMs,
      "grpc.keepalive_permit_without_calls": 1,
      "grpc.http2.min_ping_interval_without_data_ms": 5000,
      "grpc.max_receive_message_length": config.maxBatchBytes + 1_048_576, // publish.ts refuses batches over the cap, naming it
      // After the request log: a refused malformed request passes through it (logged and counted as INVALID_ARGUMENT).
      interceptors: [requestLogInterceptor(log, { quietServices: [HEALTH_SERVICE_NAME] }), refuseMalformedRequests()],
    });
    server.addService(kumihoService, {
      EventStream: eventStreamHandler(ctx, singleEventSink),
      GetEventCapabilities: capabilitiesHandler(ctx),
    } as UntypedServiceImplementation);
    server.addService(streamgateService, {
      Publish: publishHandler(ctx),
      PublishBatch: publishBatchHandler(ctx),
      Subscribe: eventStreamHandler(ctx, batchSink),
    } as UntypedServiceImplementation);
    server.addService(consumerGroupsService, {
      Consume: consumeHandler(ctx),
      ...groupAdminHandlers(ctx),
    } as UntypedServiceImplementation);
    server.addService(adminService, adminHandlers({ store: keyStore, adminKey: config.adminKey, log }) as UntypedServiceImplementation);
    const ops = await attachOperations({ server, config, redis, writer: writer.redis, hub, members, log });
    undo.push(() => ops.close());

    const [host, wantedPort] = splitHostPort(config.listen);
    const port = await new Promise<number>((res, rej) =>
      server.bindAsync(`${host}:${wantedPort}`, ServerCredentials.createInsecure(), (err, p) => (err ? rej(err) : res(p))),
    ).catch((err: unknown) => {
      // grpc-js says "No address added out of total 1 resolved errors: [listen EADDRINUSE: ...]": keep the reason.
      const reason = /errors: \[(.+)\]$/s.exec((err as Error).message)?.[1];
      throw listenFailed("STREAMGATE_LISTEN", config.listen, reason ? new Error(reason, { cause: err }) : (err as Error));
    });
    return finish({ config, log, redis, writer, hub, members, ops, auth, retentionSweep, streamLeases, server, host, port, keyStore });
  } catch (err) {
    for (const step of undo.reverse())
      await Promise.resolve()
        .then(step)
        .catch(() => {});
    throw err;
  }
}

interface Parts {
  config: Config;
  log: Logger;
  redis: SgRedis;
  writer: Writer;
  hub: Hub;
  members: MemberRegistry;
  ops: Operations;
  auth: Auth | undefined;
  retentionSweep: RetentionSweep;
  streamLeases: StreamLeases;
  server: Server;
  host: string;
  port: number;
  keyStore: KeyStore;
}

/** The running server, and its graceful stop. */
function finish(parts: Parts): Streamgate {
  const { config, log, redis, writer, hub, members, ops, auth, retentionSweep, streamLeases, server, host, port, keyStore } = parts;
  const address = joinHostPort(host, port);
  log.info({ address, auth: config.auth }, "streamgate listening");

  let closing: Promise<void> | undefined;
  return {
    port,
    address,
    hub,
    members,
    redis,
    writer,
    health: ops.health,
    metricsAddress: ops.metricsAddress,
    tenancy: { keyStore, retentionSweep },
    close(graceMs = config.shutdownGraceMs) {
      closing ??= (async () => {
        ops.drain();
        if (config.drainDelayMs > 0) {
          // Balancers and orchestrators see NOT_SERVING and stop routing here while calls still succeed.
          log.info({ drainDelayMs: config.drainDelayMs }, "draining: reporting NOT_SERVING before refusing calls");
          await sleep(config.drainDelayMs);
        }
        await retentionSweep.stop();
        await auth?.close();
        members.closeAll((m) => shuttingDown(m.lastCursor()));
        await hub.close((sub) => shuttingDown(sub.lastSent));
        ops.endWatches();
        await new Promise<void>((res) => {
          const force = setTimeout(() => {
            server.forceShutdown();
            res();
          }, graceMs);
          server.tryShutdown(() => {
            clearTimeout(force);
            res();
          });
        });
        streamLeases.stop();
        await ops.close();
        writer.disconnect();
        redis.disconnect();
        log.info("streamgate stopped");
      })();
      return closing;
    },
  };
}
