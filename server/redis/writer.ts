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
// With STREAMGATE_WAIT_REPLICAS, an append is acknowledged only once that many
// replicas have it (Redis WAIT). WAIT counts this connection's writes, so it
// must run here; appends that complete in one event-loop turn share one WAIT.
import type { Redis } from "ioredis";
import { type SgRedis, withCommands } from "./commands.js";

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

export interface WriterOptions {
  /** Bound of every command (STREAMGATE_REDIS_TIMEOUT_MS). */
  commandTimeoutMs: number;
  /** Replicas that must confirm a write before it is acknowledged (0: none). */
  waitReplicas: number;
  waitTimeoutMs: number;
}

export class Writer {
  /** The connection; use it only inside {@link run}. */
  readonly redis: SgRedis;
  private readonly inFlight = new Set<(err: Error) => void>();
  private barrier: Promise<void> | undefined;

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

  /**
   * Runs `write` (commands on {@link redis}) and, when replicas are required, waits for them.
   * Rejects with {@link WriteInterrupted} as soon as the connection breaks under it, and with
   * {@link ReplicationTimeout} when too few replicas confirm.
   */
  async run<T>(write: (redis: SgRedis) => Promise<T>): Promise<T> {
    let fail!: (err: Error) => void;
    const broken = new Promise<never>((_, reject) => {
      fail = reject;
    });
    this.inFlight.add(fail);
    try {
      const result = await Promise.race([write(this.redis), broken]);
      if (this.opts.waitReplicas > 0) await Promise.race([this.replicated(), broken]);
      return result;
    } finally {
      this.inFlight.delete(fail);
    }
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
