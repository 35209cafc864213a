// The connection appends go through, and what makes an append safe to fail.
//
// ioredis re-sends the commands whose replies a broken connection lost
// (autoResendUnfulfilledCommands): for an append that is "store the events a
// second time". This connection never re-sends and never queues while
// disconnected. An append whose connection breaks before its reply arrives is
// failed at once (WriteInterrupted): it may or may not have been stored, which
// the caller says in its UNAVAILABLE; a retry with the same idempotency keys
// is then answered from the duplicate window instead of appending again.
//
// A command that passes its bound would otherwise stay queued, its bytes in the
// socket, and still run whenever Redis or the network comes back (possibly
// after the duplicate window). So the first timeout drops the connection hard
// (RST: what the kernel still holds is discarded) and reconnects; the writes in
// flight fail with it. The bytes of writes waiting for Redis are bounded
// (STREAMGATE_PUBLISH_INFLIGHT_BYTES): each stays counted until ioredis has
// really let go of it (its reply, or its own timeout).
//
// With STREAMGATE_WAIT_REPLICAS, an append is acknowledged only once that many
// replicas have it (Redis WAIT). WAIT counts this connection's writes, so it
// must run here; appends that complete in one event-loop turn share one WAIT.
import type { Socket } from "node:net";
import type { Redis } from "ioredis";
import { type SgRedis, withCommands } from "./commands.js";
import { isCommandTimeout } from "./isRedisUnavailable.js";

/** The writer's connection broke while a write was in flight: it may or may not have been applied. */
export class WriteInterrupted extends Error {
  override name = "WriteInterrupted";
}

/** Fewer replicas than required confirmed a write in time (it is stored on the primary). */
export class ReplicationTimeout extends Error {
  override name = "ReplicationTimeout";
  constructor(
    readonly confirmed: number,
    readonly wanted: number,
    readonly timeoutMs: number,
  ) {
    super(`only ${confirmed} of ${wanted} replicas confirmed the write within ${timeoutMs} ms`);
  }
}

/** A write refused before it was sent: the bytes already waiting for Redis fill the budget. */
export class WriterBusy extends Error {
  override name = "WriterBusy";
  constructor(
    readonly waitingBytes: number,
    readonly maxBytes: number,
  ) {
    super(`${waitingBytes} bytes of publishes are waiting for Redis (STREAMGATE_PUBLISH_INFLIGHT_BYTES is ${maxBytes})`);
  }
}

export interface WriterOptions {
  /** Bound of every command (STREAMGATE_REDIS_TIMEOUT_MS). */
  commandTimeoutMs: number;
  /** Replicas that must confirm a write before it is acknowledged (0: none). */
  waitReplicas: number;
  waitTimeoutMs: number;
  /** Bytes of writes that may wait for Redis at once. */
  maxInflightBytes: number;
}

export class Writer {
  /** The connection; use it only inside {@link run}. */
  readonly redis: SgRedis;
  private readonly inFlight = new Set<(err: Error) => void>();
  private barrier: Promise<void> | undefined;
  private waiting = 0;

  constructor(
    main: Redis,
    private readonly opts: WriterOptions,
  ) {
    this.redis = withCommands(
      main.duplicate({
        connectionName: "streamgate-writer",
        enableAutoPipelining: true,
        autoResendUnfulfilledCommands: false,
        enableOfflineQueue: false,
        // WAIT blocks for up to its own timeout.
        commandTimeout: opts.commandTimeoutMs + (opts.waitReplicas > 0 ? opts.waitTimeoutMs : 0),
      }),
    );
    this.redis.on("error", () => {}); // the main connection reports Redis errors; this one reconnects on its own
    this.redis.on("close", () => {
      const err = new WriteInterrupted("the connection to Redis broke before it answered");
      for (const fail of [...this.inFlight]) fail(err);
    });
  }

  connect(): Promise<void> {
    return this.redis.connect();
  }

  /** Bytes of writes sent (or about to be) that Redis has not answered yet. */
  get waitingBytes(): number {
    return this.waiting;
  }

  /**
   * Runs `write` (commands on {@link redis}), counting `bytes` as waiting for Redis meanwhile,
   * and, when replicas are required, waits for them. Rejects with {@link WriterBusy} (nothing
   * sent) when the waiting bytes would pass the budget, {@link WriteInterrupted} as soon as the
   * connection breaks under it, and {@link ReplicationTimeout} when too few replicas confirm.
   */
  async run<T>(bytes: number, write: (redis: SgRedis) => Promise<T>): Promise<T> {
    // A single write larger than the whole budget still goes, alone.
    if (this.waiting > 0 && this.waiting + bytes > this.opts.maxInflightBytes)
      throw new WriterBusy(this.waiting, this.opts.maxInflightBytes);
    this.waiting += bytes;
    let fail!: (err: Error) => void;
    const broken = new Promise<never>((_, reject) => {
      fail = reject;
    });
    this.inFlight.add(fail);
    const attempt = write(this.redis);
    // Counted until ioredis lets go of the command (a reply, or its timeout), not just until the caller hears.
    const release = () => {
      this.waiting -= bytes;
    };
    attempt.then(release, release);
    try {
      const result = await Promise.race([attempt, broken]);
      if (this.opts.waitReplicas > 0) await Promise.race([this.replicated(), broken]);
      return result;
    } catch (err) {
      if (isCommandTimeout(err)) this.abandon();
      throw err;
    } finally {
      this.inFlight.delete(fail);
    }
  }

  /**
   * A write timed out: what else waits on this connection would too, and would still run
   * whenever Redis answers again. Reset the connection (RST, so the kernel drops what it still
   * holds rather than delivering it) and let ioredis reconnect; the writes in flight fail.
   */
  private abandon(): void {
    const socket = this.redis.stream as Socket | undefined;
    if (socket && !socket.destroyed) socket.resetAndDestroy();
  }

  /** One WAIT for every write that completed before it is sent (the ones of this event-loop turn). */
  private replicated(): Promise<void> {
    if (!this.barrier) {
      const { waitReplicas, waitTimeoutMs } = this.opts;
      this.barrier = new Promise<void>((res) => setImmediate(res)).then(async () => {
        this.barrier = undefined;
        const confirmed = Number(await this.redis.wait(waitReplicas, waitTimeoutMs));
        if (confirmed < waitReplicas) throw new ReplicationTimeout(confirmed, waitReplicas, waitTimeoutMs);
      });
    }
    return this.barrier;
  }

  disconnect(): void {
    this.redis.disconnect();
  }
}
