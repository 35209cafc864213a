// The server's serving status, as reported by the grpc.health.v1 service:
// SERVING while Redis answers and the server is not draining. Redis loss is
// noticed at once from the connection's events; a periodic PING with a
// timeout also catches a Redis that is connected but stuck.
import type { Redis } from "ioredis";
import type { Logger } from "./logger.js";

export type ServingStatus = "SERVING" | "NOT_SERVING";

/** Services the health service reports on; "" is the server as a whole. All share one status. */
export const HEALTH_CHECKED_SERVICES: readonly string[] = [
  "",
  "kumiho.KumihoService",
  "streamgate.v1.Streamgate",
  "streamgate.v1.ConsumerGroups",
  "streamgate.v1.Admin",
];

/** Someone following status changes (a Watch call). */
export interface HealthWatcher {
  /** Called after every change of the status. */
  changed(status: ServingStatus): void;
  /** Called once when the server stops reporting (shutdown). */
  ended(): void;
}

export interface HealthOptions {
  redis: Redis;
  log: Logger;
  /** Time between PINGs. */
  intervalMs: number;
  /** A PING slower than this counts as Redis being unavailable. */
  timeoutMs: number;
}

const DOWN_EVENTS = ["close", "end", "reconnecting"] as const;

/**
 * Tracks whether the server should receive calls. Starts NOT_SERVING until
 * {@link Health.start} has seen Redis answer; {@link Health.drain} makes it
 * NOT_SERVING for good.
 */
export class Health {
  private redisUp = false;
  private draining = false;
  private current: ServingStatus = "NOT_SERVING";
  private timer: NodeJS.Timeout | undefined;
  private probing: Promise<void> | undefined;
  private probeAgain = false;
  /** Bumped on every connection event, so a PING answered by a connection since lost is ignored. */
  private epoch = 0;
  private readonly watchers = new Set<HealthWatcher>();
  private readonly onReady = () => {
    this.epoch++;
    void this.probe();
  };
  private readonly onDown = () => {
    this.epoch++;
    this.setRedisUp(false, `redis connection ${this.opts.redis.status}`);
  };

  constructor(private readonly opts: HealthOptions) {}

  /** The current status of the server as a whole. */
  get status(): ServingStatus {
    return this.current;
  }

  /** The status of `service`, or undefined for a service this server does not report on. */
  statusOf(service: string): ServingStatus | undefined {
    return HEALTH_CHECKED_SERVICES.includes(service) ? this.current : undefined;
  }

  /** Starts following Redis; resolves once the first PING has settled, so the status is known. */
  async start(): Promise<void> {
    const { redis } = this.opts;
    redis.on("ready", this.onReady);
    for (const event of DOWN_EVENTS) redis.on(event, this.onDown);
    this.timer = setInterval(() => void this.probe(), this.opts.intervalMs);
    this.timer.unref();
    await this.probe();
  }

  /** Reports NOT_SERVING from now on: the first step of a graceful shutdown, so balancers stop sending calls. */
  drain(): void {
    this.draining = true;
    this.update();
  }

  /** Follows status changes until {@link stop}; returns the function that stops following. */
  watch(watcher: HealthWatcher): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /** Stops probing and ends every watcher. */
  stop(): void {
    clearInterval(this.timer);
    const { redis } = this.opts;
    redis.off("ready", this.onReady);
    for (const event of DOWN_EVENTS) redis.off(event, this.onDown);
    const watchers = [...this.watchers];
    this.watchers.clear();
    for (const w of watchers) w.ended();
  }

  /** One PING at a time; a probe asked for meanwhile runs right after. */
  private probe(): Promise<void> {
    if (this.probing) {
      this.probeAgain = true;
      return this.probing;
    }
    this.probing = this.ping().finally(() => {
      this.probing = undefined;
      if (this.probeAgain) {
        this.probeAgain = false;
        void this.probe();
      }
    });
    return this.probing;
  }

  private async ping(): Promise<void> {
    const { redis, timeoutMs } = this.opts;
    // Not connected: a PING would only wait in ioredis's offline queue.
    if (redis.status !== "ready") return this.setRedisUp(false, `redis connection ${redis.status}`);
    const epoch = this.epoch;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<string>((res) => {
      timer = setTimeout(() => res(`redis PING took longer than ${timeoutMs} ms`), timeoutMs);
    });
    const answered = redis.ping().then(
      () => "",
      (err: unknown) => `redis PING failed: ${(err as Error).message}`,
    );
    const problem = await Promise.race([answered, timedOut]);
    clearTimeout(timer);
    if (epoch !== this.epoch) return; // the connection changed meanwhile; its own event decides
    this.setRedisUp(problem === "", problem);
  }

  private setRedisUp(up: boolean, reason: string): void {
    if (this.redisUp === up) return;
    this.redisUp = up;
    if (up) this.opts.log.info("redis reachable");
    else this.opts.log.warn({ reason }, "redis unreachable");
    this.update();
  }

  private update(): void {
    const next: ServingStatus = this.redisUp && !this.draining ? "SERVING" : "NOT_SERVING";
    if (next === this.current) return;
    this.current = next;
    this.opts.log.info({ status: next, draining: this.draining, redisUp: this.redisUp }, "health status changed");
    for (const w of this.watchers) w.changed(next);
  }
}
