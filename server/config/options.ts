// Every configuration option in one table: its environment variable, its key in
// the optional JSON config file, its default and how it is validated. The README's
// configuration table is checked against this list by tests/config.test.ts.

/**
 * "hostPortOrOff": host:port, or the word "off" to disable a listener.
 * "redisUrl": redis://, rediss:// or a unix socket (unix:///path, /path), see redisUrl.ts.
 */
export type OptionType = "string" | "int" | "bool" | "hostPort" | "hostPortOrOff" | "enum" | "redisUrl";

export interface OptionSpec {
  env: string;
  type: OptionType;
  default: string | number | boolean | undefined;
  min?: number;
  max?: number;
  values?: readonly string[];
  description: string;
}

export const options = {
  listen: {
    env: "STREAMGATE_LISTEN",
    type: "hostPort",
    default: "127.0.0.1:50051",
    description: "gRPC listen address (host:port; port 0 picks a free one).",
  },
  redisUrl: {
    env: "REDIS_URL",
    type: "redisUrl",
    default: undefined,
    description:
      "Redis to use: redis://[user:password@]host[:port][/db], rediss://... (TLS) or a unix socket (unix:///path or /path). Unset: start an embedded redis-server child with AOF data under dataDir.",
  },
  dataDir: {
    env: "STREAMGATE_DATA_DIR",
    type: "string",
    default: ".data",
    description: "Where the embedded redis-server keeps its data (relative to the working directory).",
  },
  redisTimeoutMs: {
    env: "STREAMGATE_REDIS_TIMEOUT_MS",
    type: "int",
    default: 2000,
    min: 100,
    max: 60_000,
    description:
      "Longest wait for a Redis command: while Redis is paused, stalled or restarting, calls fail with UNAVAILABLE within this bound (blocking reads get it on top of their block time).",
  },
  dedupWindowMs: {
    env: "STREAMGATE_DEDUP_WINDOW_MS",
    type: "int",
    default: 120_000,
    min: 1000,
    max: 86_400_000,
    description:
      "Duplicate window of idempotent publishing: a publish repeating an idempotency key seen at least this recently is answered with the first one's cursor, not appended again (keys are kept between 1x and 2x this long).",
  },
  publishInflightBytes: {
    env: "STREAMGATE_PUBLISH_INFLIGHT_BYTES",
    type: "int",
    default: 67_108_864,
    min: 1_048_576,
    max: 4_294_967_296,
    description:
      "Bytes of publish requests that may wait for Redis at once, across the process; past it publishes get UNAVAILABLE with retry-after-ms at once (bounds memory while Redis is slow).",
  },
  waitReplicas: {
    env: "STREAMGATE_WAIT_REPLICAS",
    type: "int",
    default: 0,
    min: 0,
    max: 64,
    description:
      'Acknowledge a publish only once this many Redis replicas have it (Redis WAIT); 0 acknowledges once the primary has it. See README "Reliability".',
  },
  waitTimeoutMs: {
    env: "STREAMGATE_WAIT_TIMEOUT_MS",
    type: "int",
    default: 1000,
    min: 1,
    max: 60_000,
    description:
      "With STREAMGATE_WAIT_REPLICAS: how long a publish waits for the replicas; past it the publish fails with UNAVAILABLE (stored on the primary: retry with the same idempotency key).",
  },
  keyPrefix: {
    env: "STREAMGATE_KEY_PREFIX",
    type: "string",
    default: "sg",
    description: "Prefix of every Redis key Streamgate writes.",
  },
  tenant: {
    env: "STREAMGATE_TENANT",
    type: "string",
    default: "default",
    description: "Tenant id of every caller when STREAMGATE_AUTH=none.",
  },
  // --- tenancy: authentication, tiers, retention (README "Tenants, keys and tiers") ---
  auth: {
    env: "STREAMGATE_AUTH",
    type: "enum",
    values: ["none", "keys", "jwt"],
    default: "none",
    description:
      "How callers authenticate: none (one tenant, STREAMGATE_TENANT, loopback only), keys (API keys in Redis) or jwt (signed bearer tokens).",
  },
  tier: {
    env: "STREAMGATE_TIER",
    type: "string",
    default: "enterprise",
    description: "Tier of the single tenant when STREAMGATE_AUTH=none.",
  },
  allowInsecureNoneAuth: {
    env: "STREAMGATE_ALLOW_INSECURE_NONE_AUTH",
    type: "bool",
    default: false,
    description: "Let STREAMGATE_AUTH=none listen on a non-loopback address (anyone who can connect reads and publishes).",
  },
  tiersFile: {
    env: "STREAMGATE_TIERS_FILE",
    type: "string",
    default: undefined,
    description: "JSON file that changes or adds tiers (capabilities, retention, buffer, quotas); unset: Kumiho's default table.",
  },
  adminKey: {
    env: "STREAMGATE_ADMIN_KEY",
    type: "string",
    default: undefined,
    description: "Bearer token of the Admin service (at least 16 characters); unset: the Admin service refuses every call.",
  },
  jwtSecret: {
    env: "STREAMGATE_JWT_SECRET",
    type: "string",
    default: undefined,
    description: "HS256 secret for STREAMGATE_AUTH=jwt (at least 32 characters).",
  },
  jwksFile: {
    env: "STREAMGATE_JWKS_FILE",
    type: "string",
    default: undefined,
    description: "JWKS file with RS256/ES256 public keys for STREAMGATE_AUTH=jwt (read at start, never fetched).",
  },
  jwtTenantClaim: {
    env: "STREAMGATE_JWT_TENANT_CLAIM",
    type: "string",
    default: "tenant",
    description: "JWT claim holding the tenant id.",
  },
  jwtTierClaim: {
    env: "STREAMGATE_JWT_TIER_CLAIM",
    type: "string",
    default: "tier",
    description: "JWT claim holding the tier name.",
  },
  jwtIssuer: {
    env: "STREAMGATE_JWT_ISSUER",
    type: "string",
    default: undefined,
    description: "When set, JWTs must carry this iss.",
  },
  jwtAudience: {
    env: "STREAMGATE_JWT_AUDIENCE",
    type: "string",
    default: undefined,
    description: "When set, JWTs must carry this aud (or list it).",
  },
  keyCacheMs: {
    env: "STREAMGATE_KEY_CACHE_MS",
    type: "int",
    default: 5000,
    min: 0,
    max: 600_000,
    description: "How long a resolved API key is cached (revocations and tier changes also invalidate it at once via Redis pub/sub).",
  },
  keyRecheckMs: {
    env: "STREAMGATE_KEY_RECHECK_MS",
    type: "int",
    default: 5000,
    min: 50,
    max: 600_000,
    description:
      "How often the API keys and tenant tiers of open streams are re-checked (ends streams of revoked keys, and applies tier changes to open streams, even if a pub/sub message was missed).",
  },
  retentionSweepMs: {
    env: "STREAMGATE_RETENTION_SWEEP_MS",
    type: "int",
    default: 60_000,
    min: 0,
    max: 86_400_000,
    description: "How often every known tenant's stream is trimmed to its tier's retention (0: only on write).",
  },
  // --- end tenancy ---
  logLevel: {
    env: "STREAMGATE_LOG_LEVEL",
    type: "enum",
    values: ["fatal", "error", "warn", "info", "debug", "trace", "silent"],
    default: "info",
    description: "pino log level.",
  },
  maxDetails: {
    env: "STREAMGATE_MAX_DETAILS",
    type: "int",
    default: 64,
    min: 0,
    max: 10_000,
    description: "Most entries an event's details map may have.",
  },
  maxDetailBytes: {
    env: "STREAMGATE_MAX_DETAIL_BYTES",
    type: "int",
    default: 8192,
    min: 1,
    max: 1_048_576,
    description: "Largest details key or value, in UTF-8 bytes.",
  },
  maxEventBytes: {
    env: "STREAMGATE_MAX_EVENT_BYTES",
    type: "int",
    default: 65_536,
    min: 256,
    max: 4_194_304,
    description: "Largest event (routing key + kref + author + username + details), in UTF-8 bytes.",
  },
  maxBatchEvents: {
    env: "STREAMGATE_MAX_BATCH_EVENTS",
    type: "int",
    default: 1000,
    min: 1,
    max: 100_000,
    description: "Most events one PublishBatch may carry.",
  },
  maxBatchBytes: {
    env: "STREAMGATE_MAX_BATCH_BYTES",
    type: "int",
    default: 4_194_304,
    min: 65_536,
    max: 268_435_456,
    description:
      "Largest PublishBatch request, in bytes of its protobuf encoding; gRPC's receive limit is set 1 MiB above it, so a larger batch gets INVALID_ARGUMENT naming this limit.",
  },
  maxFilterLength: {
    env: "STREAMGATE_MAX_FILTER_LENGTH",
    type: "int",
    default: 1024,
    min: 16,
    max: 65_536,
    description: "Longest routing-key or kref filter, in characters.",
  },
  subscriberQueue: {
    env: "STREAMGATE_SUBSCRIBER_QUEUE",
    type: "int",
    default: 10_000,
    min: 16,
    max: 10_000_000,
    description: "Events held for a subscriber whose connection is not draining; past it the subscriber continues from Redis (catch-up).",
  },
  subscriberQueueBytes: {
    env: "STREAMGATE_SUBSCRIBER_QUEUE_BYTES",
    type: "int",
    default: 8_388_608,
    min: 65_536,
    max: 1_073_741_824,
    description:
      "Bytes of events held for a subscriber whose connection is not draining (with STREAMGATE_SUBSCRIBER_QUEUE, whichever comes first); past it the subscriber continues from Redis.",
  },
  readBytes: {
    env: "STREAMGATE_READ_BYTES",
    type: "int",
    default: 1_048_576,
    min: 65_536,
    max: 67_108_864,
    description:
      "Bytes one shared read or catch-up page aims for: the entry count of a read follows the size of the entries read last, up to STREAMGATE_READ_BATCH (large events: fewer per read).",
  },
  readBatch: {
    env: "STREAMGATE_READ_BATCH",
    type: "int",
    default: 1000,
    min: 1,
    max: 100_000,
    description: "Most entries one shared XREAD (live) or XRANGE (catch-up page) returns.",
  },
  feedBatchMs: {
    env: "STREAMGATE_FEED_BATCH_MS",
    type: "int",
    default: 10,
    min: 0,
    max: 1000,
    description:
      "Shortest time between two reads of a stream's shared reader: on a busy stream events arriving meanwhile go out together, in fewer and larger writes (adds at most this much latency; 0: read again at once).",
  },
  feedLingerMs: {
    env: "STREAMGATE_FEED_LINGER_MS",
    type: "int",
    default: 5000,
    min: 0,
    max: 3_600_000,
    description: "How long a stream's shared reader stays up after its last subscriber leaves.",
  },
  keepaliveTimeMs: {
    env: "STREAMGATE_KEEPALIVE_TIME_MS",
    type: "int",
    default: 20_000,
    min: 1000,
    max: 3_600_000,
    description: "Server HTTP/2 keepalive ping interval (detects half-open connections).",
  },
  keepaliveTimeoutMs: {
    env: "STREAMGATE_KEEPALIVE_TIMEOUT_MS",
    type: "int",
    default: 10_000,
    min: 1000,
    max: 600_000,
    description: "How long an unanswered keepalive ping waits before the connection is dropped.",
  },
  drainDelayMs: {
    env: "STREAMGATE_DRAIN_DELAY_MS",
    type: "int",
    default: 0,
    min: 0,
    max: 600_000,
    description:
      "On SIGTERM/SIGINT: how long the server keeps serving calls while health already reports NOT_SERVING, so load balancers stop routing to it before it refuses calls.",
  },
  shutdownGraceMs: {
    env: "STREAMGATE_SHUTDOWN_GRACE_MS",
    type: "int",
    default: 10_000,
    min: 0,
    max: 600_000,
    description: "On SIGTERM/SIGINT: how long in-flight calls get before the server forces exit.",
  },
  groupMaxDeliveries: {
    env: "STREAMGATE_GROUP_MAX_DELIVERIES",
    type: "int",
    default: 5,
    min: 1,
    max: 1000,
    description:
      "Consumer groups: deliveries of one event before it moves to the group's dead-letter stream (a group may set its own at creation).",
  },
  groupAckTimeoutMs: {
    env: "STREAMGATE_GROUP_ACK_TIMEOUT_MS",
    type: "int",
    default: 30_000,
    min: 100,
    max: 86_400_000,
    description:
      "Consumer groups: how long a delivery may stay unacknowledged before another member may take it (a group may set its own).",
  },
  groupClaimIntervalMs: {
    env: "STREAMGATE_GROUP_CLAIM_INTERVAL_MS",
    type: "int",
    default: 1000,
    min: 10,
    max: 600_000,
    description: "Consumer groups: how often each member looks for deliveries to take over or dead-letter.",
  },
  groupMaxInFlight: {
    env: "STREAMGATE_GROUP_MAX_IN_FLIGHT",
    type: "int",
    default: 100,
    min: 1,
    max: 100_000,
    description: "Consumer groups: default and upper bound of unacknowledged deliveries one member holds.",
  },
  groupMaxMembers: {
    env: "STREAMGATE_GROUP_MAX_MEMBERS",
    type: "int",
    default: 1000,
    min: 1,
    max: 100_000,
    description: "Consumer groups: members one server process serves at once (each holds a Redis connection).",
  },
  groupMaxMembersPerTenant: {
    env: "STREAMGATE_GROUP_MAX_MEMBERS_PER_TENANT",
    type: "int",
    default: 100,
    min: 1,
    max: 100_000,
    description:
      "Consumer groups: members one tenant may have on one server process at once, so that no tenant takes the whole STREAMGATE_GROUP_MAX_MEMBERS pool.",
  },
  groupDlqMaxLen: {
    env: "STREAMGATE_GROUP_DLQ_MAX_LEN",
    type: "int",
    default: 10_000,
    min: 10,
    max: 10_000_000,
    description: "Consumer groups: dead letters kept per group (oldest trimmed first, approximately).",
  },
  groupJoinTimeoutMs: {
    env: "STREAMGATE_GROUP_JOIN_TIMEOUT_MS",
    type: "int",
    default: 10_000,
    min: 100,
    max: 600_000,
    description: "Consumer groups: how long a Consume call may stay open without sending its join message (then INVALID_ARGUMENT).",
  },
  metricsListen: {
    env: "STREAMGATE_METRICS_LISTEN",
    type: "hostPortOrOff",
    default: "127.0.0.1:9464",
    description: "Prometheus metrics HTTP listener (host:port, path /metrics); off disables it. Unauthenticated: keep it private.",
  },
  metricsMaxTenants: {
    env: "STREAMGATE_METRICS_MAX_TENANTS",
    type: "int",
    default: 100,
    min: 1,
    max: 10_000,
    description: 'Distinct tenant label values per metric; later tenants are counted under tenant="other".',
  },
  healthIntervalMs: {
    env: "STREAMGATE_HEALTH_INTERVAL_MS",
    type: "int",
    default: 2000,
    min: 100,
    max: 60_000,
    description: "How often the health service PINGs Redis (connection loss is noticed at once regardless).",
  },
  healthTimeoutMs: {
    env: "STREAMGATE_HEALTH_TIMEOUT_MS",
    type: "int",
    default: 1000,
    min: 50,
    max: 60_000,
    description: "A health PING slower than this marks the server NOT_SERVING.",
  },
  reflection: {
    env: "STREAMGATE_REFLECTION",
    type: "bool",
    default: false,
    description:
      "Serve gRPC server reflection (grpc.reflection.v1 and v1alpha). Unauthenticated in every auth mode (it describes the whole API to anyone who can connect): enable it only on trusted networks.",
  },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof options;
