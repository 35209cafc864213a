// Memory is bounded in bytes: subscribers replaying large events without
// reading them once cost the server 144 MB each (catch-up pages of 1,000
// entries whatever their size, plus the prefetched next page, plus the frames
// queued for a transport that never drains). Pages and queues are now sized in
// bytes, so each such stream holds a few MB.

import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { type ClientHttp2Stream, connect } from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type StreamgateClient } from "../../client-sdk/src/index.js";
import { freePort } from "../../server/redis/localRedis.js";
import { redisUrl, waitFor } from "../helpers.js";
import { killed, spawnServer } from "../spawnServer.js";

const STREAMS = 10;
const EVENTS = 990;

/** Resident memory of a process, in bytes (Linux /proc). */
function rss(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kb) * 1024;
}

describe("subscribers replaying large events without reading them", () => {
  let server: ChildProcess;
  let client: StreamgateClient;
  let address: string;
  beforeAll(async () => {
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    server = await spawnServer({
      REDIS_URL: redisUrl(),
      STREAMGATE_LISTEN: address,
      STREAMGATE_KEY_PREFIX: `test-${randomUUID()}`,
      STREAMGATE_METRICS_LISTEN: "off",
      STREAMGATE_LOG_LEVEL: "info",
    });
    client = createClient({ address });
    // 990 events of about 56 KB: 8 details of 7,000 bytes each.
    const details = Object.fromEntries(Array.from({ length: 8 }, (_, k) => [`pad${k}`, "x".repeat(7000)]));
    for (let i = 0; i < EVENTS; i += 30) {
      await client.publishBatch(
        Array.from({ length: 30 }, (_, j) => ({ routingKey: "big.event", kref: `kref://p/s/e${i + j}.k`, details })),
      );
    }
  });
  afterAll(async () => {
    client?.close();
    if (server) await killed(server);
  });

  it(`${STREAMS} such streams cost the server a few MB each, not a page of 1,000 events each`, async () => {
    if (!server.pid) throw new Error("no server pid");
    const before = rss(server.pid);
    const session = connect(`http://${address}`);
    session.on("error", () => {});
    try {
      const streams: ClientHttp2Stream[] = [];
      for (let i = 0; i < STREAMS; i++) {
        // kumiho.KumihoService/EventStream with from_beginning (field 8, true), over raw HTTP/2: the
        // stream is never read, so once its flow-control window is used up the server's writes wait.
        const req = session.request({
          ":method": "POST",
          ":path": "/kumiho.KumihoService/EventStream",
          "content-type": "application/grpc",
          te: "trailers",
        });
        req.on("error", () => {});
        req.pause();
        req.end(Buffer.from([0, 0, 0, 0, 2, 0x40, 0x01]));
        streams.push(req);
      }
      // Every stream has had events written to it (they wait, unread, in its receive buffer).
      await waitFor(() => streams.every((req) => req.readableLength > 0), "events to reach every stream", 30_000);
      // Settled: the server has filled what it will hold for these streams (its memory stops growing).
      let last = rss(server.pid);
      let steady = 0;
      await waitFor(
        () => {
          const now = rss(server.pid as number);
          steady = now - last < 1024 * 1024 ? steady + 1 : 0;
          last = now;
          return steady >= 25;
        },
        "the server's memory to settle",
        30_000,
      );
      const perStream = (last - before) / STREAMS;
      console.info(`${STREAMS} non-reading replays of ${EVENTS} x 56 KB events: ${(perStream / 1024 / 1024).toFixed(1)} MB per stream`);
      expect(perStream).toBeLessThan(16 * 1024 * 1024);
    } finally {
      session.destroy();
    }
  });
});
