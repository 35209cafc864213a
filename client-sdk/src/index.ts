export { type ClientOptions, createClient, type EventCapabilities, type EventStreamOptions, type StreamgateClient } from "./client.js";
export { Code, StreamgateClientError } from "./errors.js";
export type { Event, NewEvent } from "./event.js";
export { type Kref, parseKref } from "./kref.js";
export { EventSubscription } from "./subscription.js";
