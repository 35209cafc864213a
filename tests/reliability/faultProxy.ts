// A TCP proxy between the server and Redis that can break the connection the
// ways networks do: reset every connection at once (RST, replies in flight are
// lost), or stall (stop forwarding in both directions without closing, as a
// partitioned or congested link does) and recover.
import { createServer, connect as netConnect, type Socket } from "node:net";

export interface FaultProxy {
  /** host:port clients dial. */
  readonly port: number;
  readonly url: string;
  /** Connections currently open through the proxy. */
  readonly connections: number;
  /** Resets every open connection (both sides get RST). */
  resetAll(): void;
  /** Stops forwarding on every connection, old and new, until resume(). */
  stall(): void;
  resume(): void;
  close(): Promise<void>;
}

/**
 * `replyDelayMs` holds Redis's replies back that long (a slower network): a reset then loses
 * replies to commands Redis has already executed, the case that re-sending turns into duplicates.
 */
export async function startFaultProxy(targetPort: number, replyDelayMs = 0): Promise<FaultProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let stalled = false;
  const server = createServer((client) => {
    const upstream = netConnect(targetPort, "127.0.0.1");
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    for (const s of pair) {
      s.on("error", () => {});
      s.on("close", () => {
        pairs.delete(pair);
        for (const other of pair) other.destroy();
      });
    }
    if (!stalled) flow(pair);
  });
  // Piped streams resume themselves on 'drain': a stall takes the pipes away, not just the flow.
  const delayed = new WeakMap<Socket, (chunk: Buffer) => void>();
  const flow = ([client, upstream]: [Socket, Socket]) => {
    client.pipe(upstream);
    if (replyDelayMs === 0) upstream.pipe(client);
    else {
      let forward = delayed.get(upstream);
      if (!forward) {
        forward = (chunk: Buffer) => setTimeout(() => client.destroyed || client.write(chunk), replyDelayMs);
        delayed.set(upstream, forward);
      }
      upstream.on("data", forward);
      upstream.resume();
    }
  };
  const halt = ([client, upstream]: [Socket, Socket]) => {
    client.unpipe(upstream);
    upstream.unpipe(client);
    const forward = delayed.get(upstream);
    if (forward) upstream.off("data", forward);
    client.pause();
    upstream.pause();
  };
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get connections() {
      return pairs.size;
    },
    resetAll() {
      for (const pair of [...pairs]) for (const s of pair) s.resetAndDestroy();
    },
    stall() {
      if (stalled) return;
      stalled = true;
      for (const pair of pairs) halt(pair);
    },
    resume() {
      if (!stalled) return;
      stalled = false;
      for (const pair of pairs) flow(pair);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of [...pairs]) for (const s of pair) s.destroy();
        server.close(() => resolve());
      }),
  };
}
