// Half-open connections: a peer that vanishes without closing its TCP connection
// (a dead host, a dropped NAT entry) never sends FIN or RST, so only the server's
// HTTP/2 keepalive pings find out. A TCP proxy between client and server that
// stops forwarding, while keeping both sockets open, simulates one.
import { createServer, type Server, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createClient, type StreamgateClient } from "../client-sdk/src/index.js";
import { sleep, startTestServer, type TestServer, waitFor } from "./helpers.js";

interface SilencingProxy {
  address: string;
  /** Stops forwarding in both directions without closing either socket. */
  goSilent(): void;
  close(): Promise<void>;
}

async function startProxy(target: string): Promise<SilencingProxy> {
  const [host, port] = [target.slice(0, target.lastIndexOf(":")), Number(target.slice(target.lastIndexOf(":") + 1))];
  const sockets = new Set<Socket>();
  let silent = false;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
  };
  const server: Server = createServer((downstream) => {
    track(downstream);
    const upstream = new Socket();
    track(upstream);
    upstream.connect(port, host);
    const forward = (from: Socket, to: Socket) => {
      from.on("data", (d: Buffer) => {
        if (!silent) to.write(d);
      });
      // A real half-open peer sends no FIN either: while silent, a close is not passed on.
      from.on("end", () => {
        if (!silent) to.end();
      });
    };
    forward(downstream, upstream);
    forward(upstream, downstream);
    if (silent) {
      downstream.pause();
      upstream.pause();
    }
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  const addr = server.address();
  if (typeof addr !== "object" || !addr) throw new Error("proxy has no address");
  return {
    address: `127.0.0.1:${addr.port}`,
    goSilent() {
      silent = true;
      for (const s of sockets) s.pause();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}

let t: TestServer | undefined;
let proxy: SilencingProxy | undefined;
let client: StreamgateClient | undefined;

afterEach(async () => {
  client?.close();
  await proxy?.close();
  await t?.close();
  client = proxy = t = undefined;
});

describe("server keepalive", () => {
  it("drops a subscriber whose connection goes half-open (no FIN, no RST, no ping acks)", async () => {
    // The smallest values options.ts allows (1000 ms each): detection within a few seconds.
    t = await startTestServer({ keepaliveTimeMs: 1000, keepaliveTimeoutMs: 1000 });
    proxy = await startProxy(t.app.address);
    client = createClient({ address: proxy.address });

    const sub = client.eventStream({ fromBeginning: true, resume: false });
    await sub.ready;
    await waitFor(() => t?.app.hub.subscriberCount === 1, "the subscription to be registered");

    // While the proxy forwards, pings are answered and the idle subscription stays.
    await sleep(2500);
    expect(t.app.hub.subscriberCount).toBe(1);

    proxy.goSilent();
    // Without keepalive the server would hold it until the OS gives up on the socket (many minutes).
    await waitFor(() => t?.app.hub.subscriberCount === 0, "the server to drop the half-open subscriber", 10_000);
  });
});
