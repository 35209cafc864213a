// What every property of the fuzz suite shares: a fixed seed (printed, and
// overridable with FUZZ_SEED to explore), a bounded number of runs and time,
// the rule for an acceptable answer, and the check that the server still
// publishes and delivers afterwards.
import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import fc from "fast-check";
import { expect } from "vitest";
import type { StreamgateClient } from "../../client-sdk/src/index.js";
import { take } from "../helpers.js";
import type { Outcome } from "./rawCalls.js";

/** The seed of every property; FUZZ_SEED=<n> replays or explores another. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20_261_208);

/**
 * fast-check parameters: the fixed seed, `numRuns` runs (times FUZZ_RUNS_FACTOR, default 1), and a
 * time limit (FUZZ_TIME_LIMIT_MS, default 8 s) after which a property stops with the runs it made,
 * so CI time stays bounded on a slow machine. Longer explorations: FUZZ_SEED=$RANDOM
 * FUZZ_RUNS_FACTOR=20 FUZZ_TIME_LIMIT_MS=300000 npx vitest run tests/fuzz
 */
export function fuzzParams<T>(name: string, numRuns: number): fc.Parameters<T> {
  const runs = Math.max(1, Math.round(numRuns * Number(process.env.FUZZ_RUNS_FACTOR ?? 1)));
  const timeLimitMs = Number(process.env.FUZZ_TIME_LIMIT_MS ?? 8000);
  console.log(`fuzz ${name}: seed ${FUZZ_SEED}, ${runs} runs (FUZZ_SEED=${FUZZ_SEED} to replay)`);
  return {
    seed: FUZZ_SEED,
    numRuns: runs,
    endOnFailure: true,
    plugins: [fc.interruptAfterTimeLimit(timeLimitMs)],
    // fast-check's report quotes the whole counterexample; a 200 KB string would drown the output.
    reporter(details) {
      if (!details.failed) return;
      const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      throw new Error(`${fc.defaultReportMessage(details)?.slice(0, 4000)}\nFailure: ${cause.slice(0, 2000)}`, {
        cause: details.errorInstance,
      });
    },
  };
}

/**
 * Codes that mean the server failed rather than answered: a server fault (INTERNAL, UNKNOWN), a
 * hang (DEADLINE_EXCEEDED: every call has a deadline), or a dropped connection or call
 * (UNAVAILABLE, CANCELLED). DATA_LOSS is an answer: a cursor of this stream's epoch naming an event
 * it never had is, for the server, history that changed (cursors/epoch.ts), and it says so.
 */
const FAILURES = new Set([status.INTERNAL, status.UNKNOWN, status.DEADLINE_EXCEEDED, status.UNAVAILABLE, status.CANCELLED]);

/** Fails, naming `input`, unless `outcome` is a specific answer (see FAILURES). */
export function expectSpecific(outcome: Outcome, input: unknown): void {
  if (FAILURES.has(outcome.code))
    expect.fail(`${status[outcome.code]} "${outcome.details}" for ${JSON.stringify(input, printable).slice(0, 600)}`);
}

/** JSON.stringify replacer that shows Buffers as hex. */
function printable(_key: string, value: unknown): unknown {
  if (value && typeof value === "object" && (value as { type?: string }).type === "Buffer")
    return `hex:${Buffer.from((value as { data: number[] }).data).toString("hex")}`;
  if (value instanceof Uint8Array) return `hex:${Buffer.from(value).toString("hex")}`;
  if (typeof value === "bigint") return `${value}n`;
  return value;
}

/**
 * The server still runs (when it is a process of its own) and a normal subscribe and publish
 * still work: the event published arrives. `client` defaults to the server's own (no credentials).
 */
export async function expectStillServing(
  server: { client: StreamgateClient; exited?(): string | undefined },
  client: StreamgateClient = server.client,
): Promise<void> {
  expect(server.exited?.(), "the server process ended").toBeUndefined();
  const routingKey = `fuzz.after.${randomUUID().slice(0, 8)}`;
  const sub = client.eventStream({ routingKeyFilter: routingKey });
  try {
    await within(sub.ready, "subscription ready");
    const cursor = await within(client.publish({ routingKey, kref: "kref://fuzz/after.model", details: { ok: "1" } }), "publish");
    const [event] = await within(take(sub, 1), "the published event");
    expect(event?.cursor).toBe(cursor);
  } finally {
    sub.close();
  }
}

function within<T>(p: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms after the fuzzing`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
