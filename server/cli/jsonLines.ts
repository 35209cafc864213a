import type { NewEvent } from "../../client-sdk/src/index.js";

/** One input line that is not a valid event: the line number and what is wrong. */
export class BadLineError extends Error {
  override name = "BadLineError";
  constructor(
    readonly line: number,
    problem: string,
  ) {
    super(`line ${line}: ${problem}`);
  }
}

function optionalString(o: Record<string, unknown>, key: string, line: number): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new BadLineError(line, `"${key}" must be a string`);
  return v;
}

/** A parsed input line: the event, and the fields that give it its idempotency key. */
export interface EventLine {
  event: NewEvent;
  /** The line's own `idempotencyKey` ("" counts as none). */
  idempotencyKey?: string;
  /** The line's `cursor` (as `tail --json` prints it) when it is a non-empty string. */
  cursor?: string;
}

/**
 * Parses one JSON line `{routingKey, kref, author?, username?, details?, idempotencyKey?}` into
 * an event. A string `cursor` (from `tail --json`) is returned for the idempotency key; other
 * fields (timestamp, tenantId) are ignored; the server validates the values themselves.
 */
export function parseEventLine(text: string, line: number): EventLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new BadLineError(line, `not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new BadLineError(line, 'expected a JSON object like {"routingKey": "item.created", "kref": "kref://project/space/item.kind"}');
  }
  const o = parsed as Record<string, unknown>;
  const routingKey = optionalString(o, "routingKey", line);
  const kref = optionalString(o, "kref", line);
  if (!routingKey) throw new BadLineError(line, '"routingKey" is required');
  if (!kref) throw new BadLineError(line, '"kref" is required');
  const event: NewEvent = { routingKey, kref };
  const author = optionalString(o, "author", line);
  const username = optionalString(o, "username", line);
  if (author !== undefined) event.author = author;
  if (username !== undefined) event.username = username;
  if (o.details !== undefined && o.details !== null) {
    if (typeof o.details !== "object" || Array.isArray(o.details)) throw new BadLineError(line, '"details" must be an object of strings');
    for (const [k, v] of Object.entries(o.details)) {
      if (typeof v !== "string") throw new BadLineError(line, `details["${k}"] must be a string`);
    }
    event.details = o.details as Record<string, string>;
  }
  const parsedLine: EventLine = { event };
  const idempotencyKey = optionalString(o, "idempotencyKey", line);
  if (idempotencyKey) parsedLine.idempotencyKey = idempotencyKey;
  // Lenient, as before this field had a meaning: a cursor that is not a string is ignored, not an error.
  if (typeof o.cursor === "string" && o.cursor !== "") parsedLine.cursor = o.cursor;
  return parsedLine;
}
