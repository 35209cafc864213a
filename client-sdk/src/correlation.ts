import type { NewEvent } from "./event.js";

/**
 * The `details` keys that carry correlation and causation ids (the convention
 * rapids and most event stores follow):
 * - `correlation_id`: shared by every event of one conversation or workflow;
 * - `causation_id`: the cursor of the event that caused this one.
 */
export const DetailKeys = Object.freeze({ correlationId: "correlation_id", causationId: "causation_id" } as const);

/**
 * The details to publish for `event`, with its correlation and causation ids filled in:
 * - `causedBy` sets `causation_id` to the causing event's cursor, and the correlation id is
 *   inherited from it (its `correlation_id`, or its own cursor when it starts the chain);
 * - `correlationId` sets the correlation id explicitly, over anything inherited;
 * - a `correlation_id` already in `details` wins over an inherited one.
 * Throws TypeError when `causedBy` has no cursor (events from tiers without cursor support).
 */
export function detailsWithCorrelation(event: NewEvent): Record<string, string> {
  const details = { ...event.details };
  const cause = event.causedBy;
  let inherited: string | undefined;
  if (cause) {
    if (!cause.cursor) throw new TypeError("causedBy must be an event with a cursor (this tier does not send cursors)");
    details[DetailKeys.causationId] = cause.cursor;
    inherited = cause.details?.[DetailKeys.correlationId] || cause.cursor;
  }
  const correlation = event.correlationId ?? event.details?.[DetailKeys.correlationId] ?? inherited;
  if (correlation !== undefined) details[DetailKeys.correlationId] = correlation;
  return details;
}
