// @streamgate/client: a TypeScript client for Streamgate (and Kumiho's EventStream API)
// with subscriptions that resume on their own without a gap or a duplicate.
export {
  type CallOptions,
  type ClientOptions,
  createClient,
  type EventCapabilities,
  type EventStreamOptions,
  type StreamgateClient,
} from "./client.js";
export { type ConsumeOptions, GroupConsumer, type GroupDelivery, type Joined } from "./consumer.js";
export { DetailKeys, detailsWithCorrelation } from "./correlation.js";
export { Code, HISTORY_LOST, isRetryable, StreamgateClientError } from "./errors.js";
export type { Event, NewEvent } from "./event.js";
export type { DeadLetter, GroupAdmin, GroupInfo, GroupMemberInfo } from "./groupAdmin.js";
export { IdempotencyKeys } from "./idempotencyKeys.js";
export { type Kref, parseKref } from "./kref.js";
export { defaultPublishRetry, type PublishRetryOptions } from "./publishRetry.js";
export { backoffDelay, defaultResume, type ResumeOptions } from "./resume.js";
export {
  EventSubscription,
  type ReconnectInfo,
  type ResumedInfo,
  START_CURSOR_HEADER,
  type SubscriptionEventMap,
} from "./subscription.js";
