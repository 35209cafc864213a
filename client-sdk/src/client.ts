import {
  type ChannelCredentials,
  type ChannelOptions,
  type Client,
  type ClientReadableStream,
  credentials as grpcCredentials,
  loadPackageDefinition,
  Metadata,
  type ServiceError,
} from "@grpc/grpc-js";
import { fromJSON } from "@grpc/proto-loader";
import { type ConsumeOptions, GroupConsumer } from "./consumer.js";
import { fromGrpcError } from "./errors.js";
import type { NewEvent } from "./event.js";
import { descriptor } from "./generated/descriptor.js";
import type { ProtoGrpcType as GroupsProto } from "./generated/groups.js";
import type { Event__Output } from "./generated/kumiho/Event.js";
import type { EventCapabilities__Output } from "./generated/kumiho/EventCapabilities.js";
import type { EventStreamRequest } from "./generated/kumiho/EventStreamRequest.js";
import type { ConsumerGroupsClient } from "./generated/streamgate/v1/ConsumerGroups.js";
import type { EventBatch__Output } from "./generated/streamgate/v1/EventBatch.js";
import type { ProtoGrpcType as StreamgateProto } from "./generated/streamgate.js";
import { type GroupAdmin, groupAdmin } from "./groupAdmin.js";
import { EventSubscription } from "./subscription.js";

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** host:port of the server, e.g. "127.0.0.1:50051". */
  address: string;
  /** API key or JWT, sent as `authorization: Bearer <token>` on every call. */
  token?: string;
  /** Channel credentials; insecure (plaintext) by default. */
  credentials?: ChannelCredentials;
  /**
   * "streamgate" (default) subscribes with Streamgate's batched Subscribe;
   * "kumiho" uses kumiho.KumihoService/EventStream (one message per event), e.g. against a Kumiho server.
   */
  protocol?: "streamgate" | "kumiho";
  /** Extra grpc-js channel options. */
  channelOptions?: ChannelOptions;
}

/** What {@link StreamgateClient.eventStream} takes. At most one start position may be set. */
export interface EventStreamOptions {
  /** Routing-key glob: "*" one segment, "#" or "**" any number; comma-separated list; "" = all. */
  routingKeyFilter?: string;
  /** Kref glob: "*" within a segment, "**" across; "" = all. */
  krefFilter?: string;
  /** Resume strictly after this cursor (from a previous event). */
  cursor?: string;
  /** Replay everything retained, then continue live. */
  fromBeginning?: boolean;
  /** Replay from this time (inclusive), then continue live. */
  fromTimestamp?: string | Date;
  /** Aborting ends the loop with the signal's reason and cancels the call on the server. */
  signal?: AbortSignal;
}

/** What a tier allows, as the server enforces it. */
export interface EventCapabilities {
  supportsReplay: boolean;
  supportsCursor: boolean;
  supportsConsumerGroups: boolean;
  /** Hours of history kept (0 none, -1 unlimited). */
  maxRetentionHours: number;
  /** Events kept (-1 unlimited). */
  maxBufferSize: number;
  tier: string;
}

/** A connection to a Streamgate server. */
export interface StreamgateClient {
  /** Appends one event; resolves to its cursor. */
  publish(event: NewEvent): Promise<string>;
  /** Appends all events or none; resolves to their cursors in order. */
  publishBatch(events: readonly NewEvent[]): Promise<string[]>;
  /** Subscribes at once and returns the subscription (an AsyncIterable of events). */
  eventStream(options?: EventStreamOptions): EventSubscription;
  /** The caller's tier and what it allows. */
  getEventCapabilities(): Promise<EventCapabilities>;
  /** Joins a consumer group (enterprise tier): each matching event goes to one member; ack each delivery. */
  consume(options: ConsumeOptions): GroupConsumer;
  /** Consumer-group introspection and dead-letter management. */
  groups: GroupAdmin;
  /** Closes the channel; open subscriptions end. */
  close(): void;
}

const packageDefinition = fromJSON(descriptor, { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true });
// Each generated ProtoGrpcType covers one .proto file; the package holds both.
const proto = loadPackageDefinition(packageDefinition) as unknown as StreamgateProto & {
  streamgate: { v1: GroupsProto["streamgate"]["v1"] };
};

type Callback<T> = (err: ServiceError | null, value?: T) => void;
type UnaryMethod<Req, Res> = (req: Req, metadata: Metadata, cb: Callback<Res>) => unknown;

function unary<Req, Res>(client: Client, method: UnaryMethod<Req, Res>, req: Req, metadata: Metadata): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, req, metadata, (err, value) => (err ? reject(fromGrpcError(err)) : resolve(value as Res)));
  });
}

function toWireEvent(e: NewEvent) {
  return { routingKey: e.routingKey, kref: { uri: e.kref }, author: e.author ?? "", username: e.username ?? "", details: e.details ?? {} };
}

function toRequest(o: EventStreamOptions): EventStreamRequest {
  const req: EventStreamRequest = { routingKeyFilter: o.routingKeyFilter ?? "", krefFilter: o.krefFilter ?? "" };
  const starts = [o.cursor !== undefined, o.fromBeginning === true, o.fromTimestamp !== undefined].filter(Boolean).length;
  if (starts > 1) throw new TypeError("set at most one of cursor, fromBeginning and fromTimestamp");
  if (o.cursor !== undefined) req.fromCursor = o.cursor;
  else if (o.fromBeginning) req.fromBeginning = true;
  else if (o.fromTimestamp !== undefined) {
    req.fromTimestamp = o.fromTimestamp instanceof Date ? o.fromTimestamp.toISOString() : o.fromTimestamp;
  }
  return req;
}

/** Connects to a Streamgate (or Kumiho) server. The channel connects lazily on first call. */
export function createClient(options: ClientOptions): StreamgateClient {
  const creds = options.credentials ?? grpcCredentials.createInsecure();
  const channelOptions = { "grpc.keepalive_time_ms": 30_000, "grpc.keepalive_timeout_ms": 10_000, ...options.channelOptions };
  const sg = new proto.streamgate.v1.Streamgate(options.address, creds, channelOptions);
  const kumiho = new proto.kumiho.KumihoService(options.address, creds, { ...channelOptions, channelOverride: sg.getChannel() });
  const groups = new proto.streamgate.v1.ConsumerGroups(options.address, creds, {
    ...channelOptions,
    channelOverride: sg.getChannel(),
  }) as ConsumerGroupsClient;
  const metadata = () => {
    const md = new Metadata();
    if (options.token) md.set("authorization", `Bearer ${options.token}`);
    return md;
  };

  return {
    async publish(event) {
      const res = await unary(sg, sg.Publish as UnaryMethod<unknown, { cursor: string }>, toWireEvent(event), metadata());
      return res.cursor;
    },
    async publishBatch(events) {
      const res = await unary(
        sg,
        sg.PublishBatch as UnaryMethod<unknown, { cursors: string[] }>,
        { events: events.map(toWireEvent) },
        metadata(),
      );
      return res.cursors;
    },
    eventStream(opts = {}) {
      const request = toRequest(opts);
      return new EventSubscription(() => {
        if (options.protocol === "kumiho") {
          const call = kumiho.EventStream(request, metadata()) as ClientReadableStream<unknown>;
          return { call, unpack: (m) => [m as Event__Output] };
        }
        const call = sg.Subscribe(request, metadata()) as ClientReadableStream<unknown>;
        return { call, unpack: (m) => (m as EventBatch__Output).events };
      }, opts.signal);
    },
    async getEventCapabilities() {
      const c = await unary(kumiho, kumiho.GetEventCapabilities as UnaryMethod<unknown, EventCapabilities__Output>, {}, metadata());
      return {
        supportsReplay: c.supportsReplay,
        supportsCursor: c.supportsCursor,
        supportsConsumerGroups: c.supportsConsumerGroups,
        maxRetentionHours: Number(c.maxRetentionHours),
        maxBufferSize: Number(c.maxBufferSize),
        tier: c.tier,
      };
    },
    consume(opts) {
      return new GroupConsumer(() => groups.Consume(metadata()), opts);
    },
    groups: groupAdmin(groups, metadata),
    close() {
      sg.close();
      kumiho.close();
      groups.close();
    },
  };
}
