// The HTTP listener Prometheus scrapes: GET /metrics in the text exposition
// format, on its own port so it never shares exposure with the gRPC API.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { joinHostPort, splitHostPort, unbracket } from "../config/hostPort.js";
import { listenFailed } from "../config/startError.js";
import type { Logger } from "./logger.js";

export const METRICS_PATH = "/metrics";

export interface MetricsServer {
  /** host:port it listens on (the real port when 0 was asked for). */
  address: string;
  close(): Promise<void>;
}

/** Listens on `listen` (host:port); rejects naming STREAMGATE_METRICS_LISTEN if it cannot bind. */
export async function startMetricsServer(listen: string, registry: Registry, log: Logger): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== METRICS_PATH) {
      res.writeHead(404, { "content-type": "text/plain" }).end(`not found; metrics are at ${METRICS_PATH}\n`);
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("method not allowed\n");
      return;
    }
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { "content-type": registry.contentType });
        res.end(req.method === "HEAD" ? undefined : body);
      },
      (err: unknown) => {
        log.error({ err }, "collecting metrics failed");
        res.writeHead(500, { "content-type": "text/plain" }).end("collecting metrics failed; see server logs\n");
      },
    );
  });
  const [host, port] = splitHostPort(listen);
  await new Promise<void>((res, rej) => {
    server.once("error", (err) => rej(listenFailed("STREAMGATE_METRICS_LISTEN", listen, err)));
    server.listen(port, unbracket(host), () => res());
  });
  const address = joinHostPort(host, (server.address() as AddressInfo).port);
  log.info({ address: `http://${address}${METRICS_PATH}` }, "metrics listening");
  return {
    address,
    close: () =>
      new Promise<void>((res) => {
        server.close(() => res());
        server.closeAllConnections();
      }),
  };
}
