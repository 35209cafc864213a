// A server whose log lines are captured, for tests of what is (and is not) logged.
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { expect } from "vitest";
import { startStreamgate } from "../server/app.js";
import { type Config, loadConfig } from "../server/config/loadConfig.js";
import { createLogger } from "../server/observability/logger.js";
import type { ResolveCaller } from "../server/tenancy/caller.js";
import { redisUrl } from "./helpers.js";

export interface LogLine {
  level: number;
  msg: string;
  method?: string;
  code?: string;
  durationMs?: number;
  correlationId?: string;
  tenant?: string;
  peer?: string;
  message?: string;
  err?: { message?: string };
}

/** Everything a server logs (at trace level), as text and as parsed JSON lines. */
export function logCapture() {
  const output: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      output.push(chunk.toString());
      done();
    },
  });
  const text = () => output.join("");
  const lines = (): LogLine[] =>
    text()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LogLine);
  return { log: createLogger("trace", destination), text, lines };
}

/** A server on 127.0.0.1:0 over `url` (default: the test Redis) whose logs are captured. */
export async function capturedServer(overrides: Partial<Config>, resolveCaller?: ResolveCaller, url = redisUrl()) {
  const capture = logCapture();
  const config = loadConfig(
    {},
    {
      listen: "127.0.0.1:0",
      metricsListen: "off",
      logLevel: "trace",
      keyPrefix: `test-log-${randomUUID()}`,
      feedLingerMs: 0,
      ...overrides,
    },
  );
  const app = await startStreamgate({ config, log: capture.log, redisUrl: url, resolveCaller });
  return { app, ...capture };
}

/** Expects that none of `secrets` appears anywhere in `text` (whole, or without a "Bearer " prefix). */
export function expectNoSecrets(text: string, secrets: string[]): void {
  for (const secret of secrets) {
    expect(secret.length).toBeGreaterThanOrEqual(8);
    expect(text.includes(secret), `a secret (${secret.slice(0, 4)}...) reached the logs`).toBe(false);
  }
}
