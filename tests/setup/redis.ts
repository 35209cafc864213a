// One private Redis for the whole test run: REDIS_URL when set, else a
// redis-server child on a free port (never the machine's shared 6379), else a
// testcontainers Redis when Docker is available. Tests isolate themselves with
// unique key prefixes, so nothing is ever flushed.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { hasRedisServer, startLocalRedis } from "../../server/redis/localRedis.js";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.REDIS_URL) {
    project.provide("redisUrl", process.env.REDIS_URL);
    return async () => {};
  }
  if (hasRedisServer()) {
    const dir = mkdtempSync(join(tmpdir(), "streamgate-test-redis-"));
    const redis = await startLocalRedis({ dataDir: dir, appendOnly: false });
    project.provide("redisUrl", redis.url);
    return async () => {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const { GenericContainer } = await import("testcontainers");
  const container = await new GenericContainer("redis:7-alpine").withExposedPorts(6379).start();
  project.provide("redisUrl", `redis://${container.getHost()}:${container.getMappedPort(6379)}`);
  return async () => {
    await container.stop();
  };
}
