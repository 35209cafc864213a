// Redis being unreachable reaches clients as UNAVAILABLE (which the SDK retries),
// not as INTERNAL (which it does not).
import { status } from "@grpc/grpc-js";
import { Redis, type RedisOptions } from "ioredis";
import { describe, expect, it } from "vitest";
import { createLogger } from "../server/observability/logger.js";
import { freePort } from "../server/redis/localRedis.js";
import { toServiceError } from "../server/rpc/toServiceError.js";

const log = createLogger("silent");

async function failureOf(options: RedisOptions): Promise<unknown> {
  const redis = new Redis({ host: "127.0.0.1", port: await freePort(), ...options });
  redis.on("error", () => {});
  try {
    await redis.xadd("k", "*", "f", "v");
    throw new Error("expected the command to fail");
  } catch (err) {
    return err;
  } finally {
    redis.disconnect();
  }
}

describe("Redis outages map to UNAVAILABLE", () => {
  it("when ioredis gives up on a queued command", async () => {
    const err = await failureOf({ maxRetriesPerRequest: 0 });
    expect(toServiceError(err, log).code).toBe(status.UNAVAILABLE);
  });

  it("when the connection closes under a command", async () => {
    const err = await failureOf({ maxRetriesPerRequest: 1, retryStrategy: () => null });
    expect(toServiceError(err, log).code).toBe(status.UNAVAILABLE);
  });

  it("while any other unexpected error stays INTERNAL without its message on the wire", () => {
    const res = toServiceError(new TypeError("x is undefined"), log);
    expect(res.code).toBe(status.INTERNAL);
    expect(res.details).toBe("internal error; see server logs");
  });
});
