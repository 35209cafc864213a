/** What a tier allows; GetEventCapabilities reports exactly this. */
export interface Tier {
  name: string;
  supportsCursor: boolean;
  supportsReplay: boolean;
  supportsConsumerGroups: boolean;
  /** Hours of history kept (0: none, -1: unlimited). */
  maxRetentionHours: number;
  /** Events kept per tenant stream (-1: unlimited). */
  maxBufferSize: number;
}

/** Kumiho's published tier table. */
export const defaultTiers: Record<string, Tier> = {
  free: {
    name: "free",
    supportsCursor: false,
    supportsReplay: false,
    supportsConsumerGroups: false,
    maxRetentionHours: 0,
    maxBufferSize: 100,
  },
  creator: {
    name: "creator",
    supportsCursor: true,
    supportsReplay: true,
    supportsConsumerGroups: false,
    maxRetentionHours: 1,
    maxBufferSize: 10_000,
  },
  studio: {
    name: "studio",
    supportsCursor: true,
    supportsReplay: true,
    supportsConsumerGroups: false,
    maxRetentionHours: 24,
    maxBufferSize: 100_000,
  },
  enterprise: {
    name: "enterprise",
    supportsCursor: true,
    supportsReplay: true,
    supportsConsumerGroups: true,
    maxRetentionHours: 720,
    maxBufferSize: -1,
  },
};
