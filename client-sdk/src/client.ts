import {
  type ChannelCredentials,
  type ChannelOptions,
  type Client,
  type ClientReadableStream,
  type ClientUnaryCall,
  connectivityState,
  type CallOptions as GrpcCallOptions,
  credentials as grpcCredentials,
  loadPackageDefinition,
  Metadata,
  type ServiceError,
} from "@grpc/grpc-js";
import { fromJSON, type MethodDefinition, type ServiceDefinition } from "@grpc/proto-loader";
import { type ConsumeOptions, GroupConsumer } from "./consumer.js";
import { detailsWithCorrelation } from "./correlation.js";
import { abortReason, Code, fromGrpcError, StreamgateClientError } from "./errors.js";
import type { NewEvent } from "./event.js";
import { descriptor } from "./generated/descriptor.js";
import type { ProtoGrpcType as GroupsProto } from "./generated/groups.js";
import type { HealthClient } from "./generated/grpc/health/v1/Health.js";
import type { HealthCheckResponse__Output } from "./generated/grpc/health/v1/HealthCheckResponse.js";
import type { ProtoGrpcType as HealthProto } from "./generated/health.js";
import type { Event__Output } from "./generated/kumiho/Event.js";
import type { EventCapabilities__Output } from "./generated/kumiho/EventCapabilities.js";
import type { EventStreamRequest } from "./generated/kumiho/EventStreamRequest.js";
import type { ConsumerGroupsClient } from "./generated/streamgate/v1/ConsumerGroups.js";
import type { EventBatch__Output } from "./generated/streamgate/v1/EventBatch.js";
import type { ProtoGrpcType as StreamgateProto } from "./generated/streamgate.js";
import { type GroupAdmin, groupAdmin } from "./groupAdmin.js";
import { IdempotencyKeys } from "./idempotencyKeys.js";
import { type PublishRetryOptions, publishRetryPolicy, withPublishRetry } from "./publishRetry.js";
import type { ResumeOptions } from "./resume.js";
import { EventSubscription } from "./subscription.js";
import { decodeEvent, decodeEventBatch, encodePublishBatchRequest, encodePublishRequest } from "./wire/codecs.js";

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
  /**
   * Extra grpc-js channel options; they override the client's defaults: keepalive, reconnect backoff,
   * and `grpc.max_receive_message_length` of 16 MiB (a Streamgate server keeps its stream messages
   * far below that; grpc-js's own default is 4 MiB).
   */
  channelOptions?: ChannelOptions;
  /**
   * How `publish` and `publishBatch` retry through a server or Redis restart (see
   * {@link PublishRetryOptions}; on by default, bounded by 30 s per publish); `false` fails at
   * the first error.
   */
  publishRetry?: PublishRetryOptions | false;
  /**
   * Give every published event without an `idempotencyKey` one of the client's own (default
   * true), so that a retry never stores it twice. `false` sends none: such publishes are then
   * never retried.
   */
  autoIdempotencyKeys?: boolean;
}

/** What {@link StreamgateClient.eventStream} takes. At most one start position may be set. */
export interface EventStreamOptions {
  /** Routing-key glob: "*" one segment, "#" or "**" any number; comma-separated list; "" = all. */
  routingKeyFilter?: string;
  /** Kref glob: "*" within a segment, "**" across; "" = all. */
  krefFilter?: string;
  /** Resume strictly after this cursor (from a previous event, or a subscription's `lastCursor`). */
  cursor?: string;
  /** Replay everything retained, then continue live. */
  fromBeginning?: boolean;
  /** Replay from this time (inclusive), then continue live. */
  fromTimestamp?: string | Date;
  /** Aborting ends the loop with the signal's reason (an AbortError) and cancels the call on the server. */
  signal?: AbortSignal;
  /**
   * Reconnection after a retryable break (on by default: see {@link ResumeOptions} for the
   * defaults); `false` ends the loop with the first error instead.
   */
  resume?: ResumeOptions | false;
}

/** Per-call options of the unary methods. */
export interface CallOptions {
  /** Aborting cancels the call; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Deadline in ms from now; past it the call fails with DEADLINE_EXCEEDED. For `publish` and
   * `publishBatch` it bounds the retries too (default `publishRetry.timeoutMs`, 30 s).
   */
  timeoutMs?: number;
}

/** What a tier allows, as the server enforces it. */
export interface EventCapabilities {
  /** `fromBeginning` and `fromTimestamp` are allowed. */
  supportsReplay: boolean;
  /** Events carry cursors and `cursor` resumes are allowed. */
  supportsCursor: boolean;
  /** Consumer groups are available. */
  supportsConsumerGroups: boolean;
  /** Hours of history kept (0 none, -1 unlimited). */
  maxRetentionHours: number;
  /** Events kept (-1 unlimited). */
  maxBufferSize: number;
  /** The tier's name, e.g. "enterprise". */
  tier: string;
}

/** A connection to a Streamgate server. */
export interface StreamgateClient {
  /**
   * Appends one event; resolves to its cursor. `causedBy` and `correlationId`
   * are written to `details` (see {@link DetailKeys}). Waits for the connection and retries
   * through restarts with the same idempotency key (see {@link ClientOptions.publishRetry}):
   * the event is stored once, and a repeat of a key within the server's duplicate window
   * resolves to the first cursor.
   */
  publish(event: NewEvent, options?: CallOptions): Promise<string>;
  /**
   * Appends all events or none; resolves to their cursors in order. The server caps a batch's events
   * and bytes (STREAMGATE_MAX_BATCH_EVENTS, STREAMGATE_MAX_BATCH_BYTES): a larger batch is refused with
   * INVALID_ARGUMENT naming the limit (or, far above it, RESOURCE_EXHAUSTED from the server's transport).
   * Retried as {@link publish} is; an event whose key the server saw gets the first one's cursor.
   */
  publishBatch(events: readonly NewEvent[], options?: CallOptions): Promise<string[]>;
  /**
   * Subscribes at once and returns the subscription (an AsyncIterable of
   * events and a handle), synchronously. It reconnects on its own after
   * retryable breaks; see {@link EventSubscription}. Throws TypeError when more
   * than one start position is set or the resume options are invalid.
   */
  eventStream(options?: EventStreamOptions): EventSubscription;
  /** The caller's tier and what it allows. */
  getEventCapabilities(options?: CallOptions): Promise<EventCapabilities>;
  /**
   * The server's grpc.health.v1 status ("SERVING", "NOT_SERVING", ...), for the
   * whole server or one service; needs no credentials.
   */
  health(service?: string, options?: CallOptions): Promise<string>;
  /** Joins a consumer group (enterprise tier): each matching event goes to one member; ack each delivery. */
  consume(options: ConsumeOptions): GroupConsumer;
  /** Consumer-group introspection and dead-letter management. */
  groups: GroupAdmin;
  /**
   * Closes every call the client opened: subscriptions and group consumers (their loops end without
   * error; a consumer's pending acks are sent first), then the channel.
   */
  close(): void;
}

const packageDefinition = fromJSON(descriptor, { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true });
// Every delivered event and every publish goes through these methods: they use hand-written
// codecs (wire/codecs.ts), several times faster than the generic ones and with the same objects.
function useCodec(
  service: string,
  method: string,
  codec: { requestSerialize?: (v: never) => Buffer; responseDeserialize?: (b: Buffer) => unknown },
) {
  const def = (packageDefinition[service] as ServiceDefinition)[method] as MethodDefinition<unknown, unknown>;
  if (codec.requestSerialize) def.requestSerialize = codec.requestSerialize as (v: unknown) => Buffer;
  if (codec.responseDeserialize) def.responseDeserialize = codec.responseDeserialize;
}
useCodec("streamgate.v1.Streamgate", "Subscribe", { responseDeserialize: decodeEventBatch });
useCodec("kumiho.KumihoService", "EventStream", { responseDeserialize: decodeEvent });
useCodec("streamgate.v1.Streamgate", "Publish", { requestSerialize: encodePublishRequest });
useCodec("streamgate.v1.Streamgate", "PublishBatch", { requestSerialize: encodePublishBatchRequest });
// Each generated ProtoGrpcType covers one .proto file; the package holds both.
const proto = loadPackageDefinition(packageDefinition) as unknown as StreamgateProto & {
  streamgate: { v1: GroupsProto["streamgate"]["v1"] };
} & HealthProto;

type Callback<T> = (err: ServiceError | null, value?: T) => void;
type UnaryMethod<Req, Res> = (req: Req, metadata: Metadata, options: GrpcCallOptions, cb: Callback<Res>) => ClientUnaryCall;

function unary<Req, Res>(
  client: Client,
  method: UnaryMethod<Req, Res>,
  req: Req,
  metadata: Metadata,
  options: CallOptions & { deadline?: number } = {},
): Promise<Res> {
  const { signal, timeoutMs } = options;
  const deadline = options.deadline ?? (timeoutMs === undefined ? undefined : Date.now() + timeoutMs);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const callOptions: GrpcCallOptions = deadline === undefined || deadline === Number.POSITIVE_INFINITY ? {} : { deadline };
    const onAbort = () => call.cancel();
    const call = method.call(client, req, metadata, callOptions, (err, value) => {
      signal?.removeEventListener("abort", onAbort);
      if (!err) resolve(value as Res);
      else reject(signal?.aborted ? abortReason(signal) : fromGrpcError(err));
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function toWireEvent(e: NewEvent, keys: IdempotencyKeys | undefined) {
  return {
    routingKey: e.routingKey,
    kref: { uri: e.kref },
    author: e.author ?? "",
    username: e.username ?? "",
    details: detailsWithCorrelation(e),
    idempotencyKey: e.idempotencyKey || keys?.next() || "",
  };
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

/** Largest message the client accepts by default: well above the server's frames (batches of events, dead-letter pages). */
const MAX_RECEIVE_BYTES = 16 * 1024 * 1024;

// The server's transport refuses a request above its receive limit with this text, before any handler sees it.
const TOO_LARGE = /^Received message larger than max/;

/** A PublishBatch the server's transport refused for its size, said in words a caller can act on. */
function batchTooLarge(err: unknown): unknown {
  if (!(err instanceof StreamgateClientError) || err.code !== Code.RESOURCE_EXHAUSTED || !TOO_LARGE.test(err.message)) return err;
  const message = `${err.message}: the batch is larger than the server accepts (its STREAMGATE_MAX_BATCH_BYTES); send fewer events per batch`;
  return new StreamgateClientError(err.code, message, err.trailers, { cause: err });
}

/**
 * A publish whose deadline passed while the channel was waiting to (re)connect: said as
 * UNAVAILABLE naming the address, not as a bare DEADLINE_EXCEEDED. (An earlier attempt may have
 * reached the server: retry with the same idempotency keys to be sure it is stored once.)
 */
function neverConnected(err: unknown, client: Client, address: string): unknown {
  if (!(err instanceof StreamgateClientError) || err.code !== Code.DEADLINE_EXCEEDED) return err;
  if (client.getChannel().getConnectivityState(false) === connectivityState.READY) return err;
  return new StreamgateClientError(
    Code.UNAVAILABLE,
    `could not reach the server at ${address} before the publish's deadline`,
    err.trailers,
    {
      cause: err,
    },
  );
}

/**
 * Connects to a Streamgate (or Kumiho) server. The channel connects lazily on
 * the first call and reconnects on its own (backoff capped at 5 s by default,
 * so a restarted server is found again quickly).
 */
export function createClient(options: ClientOptions): StreamgateClient {
  const creds = options.credentials ?? grpcCredentials.createInsecure();
  const channelOptions: ChannelOptions = {
    "grpc.keepalive_time_ms": 30_000,
    "grpc.keepalive_timeout_ms": 10_000,
    "grpc.initial_reconnect_backoff_ms": 100,
    "grpc.max_reconnect_backoff_ms": 5000,
    // HTTP/2's default 64 KiB window let a busy stream's data queue on the server (latency grew to
    // seconds at 2,000 events/s to 100 subscribers); 1 MiB per connection keeps it flowing.
    "grpc-node.flow_control_window": 1024 * 1024,
    "grpc.max_receive_message_length": MAX_RECEIVE_BYTES,
    ...options.channelOptions,
  };
  const sg = new proto.streamgate.v1.Streamgate(options.address, creds, channelOptions);
  const kumiho = new proto.kumiho.KumihoService(options.address, creds, { ...channelOptions, channelOverride: sg.getChannel() });
  const groups = new proto.streamgate.v1.ConsumerGroups(options.address, creds, {
    ...channelOptions,
    channelOverride: sg.getChannel(),
  }) as ConsumerGroupsClient;
  const health = new proto.grpc.health.v1.Health(options.address, creds, {
    ...channelOptions,
    channelOverride: sg.getChannel(),
  }) as HealthClient;
  // Every call the client opened and that is still open: close() ends them all.
  const subscriptions = new Set<EventSubscription>();
  const consumers = new Set<GroupConsumer>();
  const metadata = () => {
    const md = new Metadata();
    if (options.token) md.set("authorization", `Bearer ${options.token}`);
    return md;
  };
  const retry = publishRetryPolicy(options.publishRetry);
  const keys = options.autoIdempotencyKeys === false ? undefined : new IdempotencyKeys();
  /** Sends a publish until it succeeds or retrying cannot help, waiting for the connection each time. */
  const publishing = <Res>(method: UnaryMethod<unknown, Res>, req: unknown, safe: boolean, callOptions: CallOptions = {}) => {
    const md = metadata();
    // When retrying, wait for the channel to (re)connect rather than fail at once while the server
    // restarts (bounded by the publish's deadline); a publish that is not retried fails fast.
    if (retry && safe) md.setOptions({ waitForReady: true });
    const { signal, timeoutMs } = callOptions;
    return withPublishRetry((deadline) => unary(sg, method, req, md, { signal, deadline }), { retry, safe, timeoutMs, signal }).catch(
      (err: unknown) => {
        throw neverConnected(err, sg, options.address);
      },
    );
  };

  return {
    async publish(event, callOptions) {
      const wire = toWireEvent(event, keys);
      const method = sg.Publish as unknown as UnaryMethod<unknown, { cursor: string }>;
      const res = await publishing(method, wire, wire.idempotencyKey !== "", callOptions);
      return res.cursor;
    },
    async publishBatch(events, callOptions) {
      const wire = { events: events.map((e) => toWireEvent(e, keys)) };
      const method = sg.PublishBatch as unknown as UnaryMethod<unknown, { cursors: string[] }>;
      const safe = wire.events.every((e) => e.idempotencyKey !== "");
      const res = await publishing(method, wire, safe, callOptions).catch((err: unknown) => {
        throw batchTooLarge(err);
      });
      return res.cursors;
    },
    eventStream(opts = {}) {
      const request = toRequest(opts);
      let ended = false; // an already-aborted signal ends it inside the constructor
      const sub = new EventSubscription(
        (req) => {
          if (options.protocol === "kumiho") {
            const call = kumiho.EventStream(req, metadata()) as ClientReadableStream<unknown>;
            return { call, unpack: (m) => [m as Event__Output] };
          }
          const call = sg.Subscribe(req, metadata()) as ClientReadableStream<unknown>;
          return { call, unpack: (m) => (m as EventBatch__Output).events };
        },
        request,
        {
          signal: opts.signal,
          resume: opts.resume,
          onEnd: (s) => {
            ended = true;
            subscriptions.delete(s);
          },
        },
      );
      if (!ended) subscriptions.add(sub);
      return sub;
    },
    async getEventCapabilities(callOptions) {
      const method = kumiho.GetEventCapabilities as unknown as UnaryMethod<unknown, EventCapabilities__Output>;
      const c = await unary(kumiho, method, {}, metadata(), callOptions);
      return {
        supportsReplay: c.supportsReplay,
        supportsCursor: c.supportsCursor,
        supportsConsumerGroups: c.supportsConsumerGroups,
        maxRetentionHours: Number(c.maxRetentionHours),
        maxBufferSize: Number(c.maxBufferSize),
        tier: c.tier,
      };
    },
    async health(service = "", callOptions) {
      const method = health.Check as unknown as UnaryMethod<unknown, HealthCheckResponse__Output>;
      const res = await unary(health, method, { service }, new Metadata(), callOptions);
      return String(res.status);
    },
    consume(opts) {
      const consumer = new GroupConsumer(
        () => groups.Consume(metadata()),
        opts,
        (c) => consumers.delete(c),
      );
      consumers.add(consumer);
      return consumer;
    },
    groups: groupAdmin(groups, metadata),
    close() {
      for (const sub of [...subscriptions]) sub.close();
      for (const consumer of [...consumers]) consumer.close();
      sg.close();
      kumiho.close();
      groups.close();
      health.close();
    },
  };
}
