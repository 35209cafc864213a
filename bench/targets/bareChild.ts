// Child process: the "bare grpc-js stream" reference. Events live in memory,
// each is encoded once (protobufjs, through proto-loader) and written as one
// kumiho.Event message per event to every subscriber whose filter matches, as
// a hand-rolled server without Redis would do. It speaks the same methods the
// bench clients use: kumiho.KumihoService/EventStream and
// streamgate.v1.Streamgate/Publish + PublishBatch.
import { once } from "node:events";
import {
  type GrpcObject,
  loadPackageDefinition,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { fromJSON } from "@grpc/proto-loader";
import { descriptor } from "../../client-sdk/src/generated/descriptor.js";
import { serveParent } from "../lib/child.js";
import { naiveFilter } from "../lib/naiveFilter.js";
import { detailsOf, eventAt } from "../lib/workload.js";
import { memoryHandlers, profilerHandlers } from "./profiler.js";

const pkg = loadPackageDefinition(fromJSON(descriptor, { longs: String, defaults: true, oneofs: true }));

function service(path: string): ServiceDefinition {
  let node: unknown = pkg;
  for (const part of path.split(".")) node = (node as GrpcObject)[part];
  return (node as { service: ServiceDefinition }).service;
}

const kumiho = service("kumiho.KumihoService");
const streamgate = service("streamgate.v1.Streamgate");
const encodeEvent = (kumiho.EventStream as ServiceDefinition[string]).responseSerialize;
// Events are encoded once, so the stream's serializer passes the bytes through.
const kumihoService: ServiceDefinition = {
  ...kumiho,
  EventStream: { ...(kumiho.EventStream as ServiceDefinition[string]), responseSerialize: (b: Buffer) => b },
};

interface WireEvent {
  routingKey: string;
  kref: { uri: string } | null;
  author: string;
  username: string;
  details: Record<string, string>;
}

interface Sub {
  matches: (routingKey: string, kref: string) => boolean;
  call: ServerWritableStream<unknown, Buffer>;
}

const log: { routingKey: string; kref: string; bytes: Buffer }[] = [];
const subs = new Set<Sub>();

function append(ev: WireEvent): string {
  const cursor = String(log.length);
  const kref = ev.kref?.uri ?? "";
  const bytes = encodeEvent({
    routingKey: ev.routingKey,
    kref: { uri: kref },
    timestamp: new Date().toISOString(),
    author: ev.author,
    tenantId: "bench",
    details: ev.details,
    username: ev.username,
    cursor,
  });
  log.push({ routingKey: ev.routingKey, kref, bytes });
  for (const s of subs) if (s.matches(ev.routingKey, kref)) s.call.write(bytes);
  return cursor;
}

async function eventStream(call: ServerWritableStream<{ routingKeyFilter: string; krefFilter: string; fromBeginning?: boolean }, Buffer>) {
  const sub: Sub = { matches: naiveFilter(call.request.routingKeyFilter, call.request.krefFilter), call };
  let cancelled = false;
  call.on("cancelled", () => {
    cancelled = true;
    subs.delete(sub);
  });
  if (call.request.fromBeginning) {
    // Replay with backpressure, then go live (the log does not grow during a replay run).
    for (const e of log) {
      if (cancelled) return;
      if (sub.matches(e.routingKey, e.kref) && !call.write(e.bytes)) await once(call, "drain");
    }
  }
  if (!cancelled) subs.add(sub);
}

function unary<Req, Res>(fn: (req: Req) => Res) {
  return (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>) => cb(null, fn(call.request));
}

let server: Server | undefined;

serveParent({
  ...profilerHandlers,
  ...memoryHandlers,
  async start() {
    server = new Server();
    server.addService(kumihoService, { EventStream: eventStream } as UntypedServiceImplementation);
    server.addService(streamgate, {
      Publish: unary((req: WireEvent) => ({ cursor: append(req), timestamp: new Date().toISOString() })),
      PublishBatch: unary((req: { events: WireEvent[] }) => ({ cursors: req.events.map(append) })),
    } as UntypedServiceImplementation);
    const port = await new Promise<number>((res, rej) =>
      server?.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) => (err ? rej(err) : res(p))),
    );
    return { address: `127.0.0.1:${port}` };
  },
  /** Fills the in-memory log with events [0, total) for a replay run. */
  preload(args: { total: number; projects: number }) {
    for (let seq = 0; seq < args.total; seq++) {
      const e = eventAt(seq, args.projects);
      append({ routingKey: e.routingKey, kref: { uri: e.kref }, author: "bench", username: "", details: detailsOf(seq) });
    }
    return log.length;
  },
  subscribers() {
    return subs.size;
  },
  async stop() {
    server?.forceShutdown();
    return true;
  },
});
