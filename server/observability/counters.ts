/** Process-wide counters; exported as Prometheus metrics by the metrics listener. */
export const counters = {
  /** Stream entries skipped because they could not be decoded as events. */
  undecodableEntries: 0,
  /** Subscribers that fell behind their queue limit and continued from Redis. */
  slowConsumerCatchUps: 0,
  /** Subscribers ended because they fell behind the retention window. */
  slowConsumerDisconnects: 0,
  /** Consumer-group events moved to a dead-letter stream after max deliveries. */
  deadLettered: 0,
  /** Pending consumer-group entries acknowledged because their event had been trimmed. */
  trimmedPending: 0,
  eventsPublished: 0,
  eventsDelivered: 0,
};
