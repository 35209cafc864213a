/** What a tier allows; GetEventCapabilities reports exactly this. */
export interface Tier {
  name: string;
  supportsCursor: boolean;
  supportsReplay: boolean;
  supportsConsumerGroups: boolean;
  /**
   * Hours of history kept and replayable (-1: unlimited). 0 means no history:
   * the stream is only a delivery buffer of `maxBufferSize` events. May be
   * fractional (a tiers file can use e.g. 0.5 for 30 minutes).
   */
  maxRetentionHours: number;
  /** Events kept per tenant stream (-1: unlimited). */
  maxBufferSize: number;
  /** Open EventStream/Subscribe calls per tenant, across all replicas (-1: unlimited). */
  maxConcurrentStreams: number;
  /** Sustained publish rate per tenant, events per second (-1: unlimited). */
  publishRatePerSecond: number;
  /** Events a tenant may publish at once above the sustained rate (the token bucket's size). */
  publishBurst: number;
}

/** Tiers by name. */
export type TierTable = Readonly<Record<string, Tier>>;

/** Kumiho's published tier table, plus Streamgate's per-tier quotas. */
export const defaultTiers: TierTable = {
  free: {
    name: "free",
    supportsCursor: false,
    supportsReplay: false,
    supportsConsumerGroups: false,
    maxRetentionHours: 0,
    maxBufferSize: 100,
    maxConcurrentStreams: 10,
    publishRatePerSecond: 20,
    publishBurst: 100,
  },
  creator: {
    name: "creator",
    supportsCursor: true,
    supportsReplay: true,
    supportsConsumerGroups: false,
    maxRetentionHours: 1,
    maxBufferSize: 10_000,
    maxConcurrentStreams: 100,
    publishRatePerSecond: 200,
    publishBurst: 1000,
  },
  studio: {
    name: "studio",
    supportsCursor: true,
    supportsReplay: true,
    supportsConsumerGroups: false,
    maxRetentionHours: 24,
    maxBufferSize: 100_000,
    maxConcurrentStreams: 1000,
    publishRatePerSecond: 2000,
    publishBurst: 10_000,
  },
  enterprise: {
    name: "enterprise",
    supportsCursor: true,
    supportsReplay: true,
    supportsConsumerGroups: true,
    maxRetentionHours: 720,
    maxBufferSize: -1,
    maxConcurrentStreams: -1,
    publishRatePerSecond: -1,
    publishBurst: -1,
  },
};

/** The tier called `name`, or undefined (never an inherited object property). */
export function tierByName(tiers: TierTable, name: string): Tier | undefined {
  return Object.hasOwn(tiers, name) ? tiers[name] : undefined;
}
