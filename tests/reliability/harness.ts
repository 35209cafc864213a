// What the reliability tests share: a server on a Redis of the test's own (or a
// proxy in front of it), producers that publish numbered events through the SDK
// and record what was acknowledged, and subscribers that record what arrived.
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Event, EventSubscription, NewEvent, StreamgateClient } from "../../client-sdk/src/index.js";
import { type Streamgate, startStreamgate } from "../../server/app.js";
import { type Config, loadConfig } from "../../server/config/loadConfig.js";
import { createLogger } from "../../server/observability/logger.js";
import { tenantKeys } from "../../server/redis/layout.js";
import type { Ledger } from "./ledger.js";

export interface RelServer {
  app: Streamgate;
  config: Config;
  /** The tenant's event stream key. */
  stream: string;
}

/** A Streamgate over `redisUrl` on 127.0.0.1:0 with its own key prefix. */
export async function startServerOn(redisUrl: string, overrides: Partial<Config> = {}): Promise<RelServer> {
  const config = loadConfig(
    {},
    { listen: "127.0.0.1:0", metricsListen: "off", keyPrefix: `rel-${randomUUID()}`, logLevel: "silent", feedLingerMs: 0, ...overrides },
  );
  const app = await startStreamgate({ config, log: createLogger(process.env.TEST_LOG_LEVEL ?? "silent"), redisUrl });
  return { app, config, stream: tenantKeys(config.keyPrefix, config.tenant).events };
}

/** Resume settings that ride out outages of any length in tests (fast, unlimited). */
export const keepResuming = { initialDelayMs: 10, maxDelayMs: 200, maxAttempts: Number.POSITIVE_INFINITY };

/** Drains a subscription into `into`; resolves with the error that ended the loop, if any. */
export function collect(sub: EventSubscription, into: Event[]): Promise<unknown> {
  return (async () => {
    for await (const e of sub) into.push(e);
  })().then(
    () => undefined,
    (err: unknown) => err,
  );
}

/** An event carrying `seq` in its details, the ledger's identity of it. */
export function numbered(seq: number): NewEvent {
  return { routingKey: "reliability.check", kref: `kref://rel/shots/sh${seq % 100}.model?r=1`, details: { seq: String(seq) } };
}

export interface Producers {
  /** Publishes that failed (the error reached the caller). */
  readonly failures: unknown[];
  /** Resolves once all `total` events were sent (acknowledged or failed). */
  readonly done: Promise<void>;
  /** Stops early; resolves once the publishes in flight have settled. */
  stop(): Promise<void>;
}

/**
 * `concurrency` loops publishing numbered events through `client` (batches of `batch`, or single
 * publishes when 1) until stopped or `total` events were sent, recording every acknowledgement.
 */
export function startProducers(
  client: StreamgateClient,
  ledger: Ledger,
  opts: { concurrency: number; batch: number; total: number; timeoutMs?: number },
): Producers {
  let running = true;
  let sent = 0;
  const failures: unknown[] = [];
  const loop = async () => {
    while (running && sent < opts.total) {
      const seqs = Array.from({ length: Math.min(opts.batch, opts.total - sent) }, () => ledger.seq());
      sent += seqs.length;
      try {
        if (seqs.length === 1)
          ledger.ack(seqs[0] as number, await client.publish(numbered(seqs[0] as number), { timeoutMs: opts.timeoutMs }));
        else {
          const cursors = await client.publishBatch(seqs.map(numbered), { timeoutMs: opts.timeoutMs });
          for (const [i, s] of seqs.entries()) ledger.ack(s, cursors[i] as string);
        }
      } catch (err) {
        failures.push(err);
      }
    }
  };
  const done = Promise.all(Array.from({ length: opts.concurrency }, loop)).then(() => undefined);
  return {
    failures,
    done,
    async stop() {
      running = false;
      await done;
    },
  };
}

/** The seq of every entry of `stream`, in stream order. */
export async function storedSeqs(redis: Redis, stream: string): Promise<number[]> {
  const out: number[] = [];
  let start = "-";
  for (;;) {
    const page = (await redis.xrange(stream, start, "+", "COUNT", 1000)) as [string, string[]][];
    for (const [, fields] of page) {
      const at = fields.indexOf("details");
      out.push(Number((JSON.parse(fields[at + 1] as string) as { seq: string }).seq));
    }
    if (page.length < 1000) return out;
    start = `(${(page[page.length - 1] as [string, string[]])[0]}`;
  }
}
