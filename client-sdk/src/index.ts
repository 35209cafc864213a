export { type ClientOptions, createClient, type EventCapabilities, type EventStreamOptions, type StreamgateClient } from "./client.js";
export { type ConsumeOptions, GroupConsumer, type GroupDelivery, type Joined } from "./consumer.js";
export { Code, StreamgateClientError } from "./errors.js";
export type { Event, NewEvent } from "./event.js";
export type { DeadLetter, GroupAdmin, GroupInfo } from "./groupAdmin.js";
export { type Kref, parseKref } from "./kref.js";
export { EventSubscription } from "./subscription.js";
