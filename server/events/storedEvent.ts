import { Field } from "../redis/layout.js";
import { type NewEvent, storedKeyProblem } from "./validateEvent.js";

/** An event as read back from a stream entry. */
export interface StoredEvent extends Omit<NewEvent, "idempotencyKey"> {
  id: string;
}

/** Flat XADD field list for an event (see redis/layout.ts for the layout). */
export function toStreamFields(ev: NewEvent): string[] {
  const fields = [Field.routingKey, ev.routingKey, Field.kref, ev.kref];
  if (ev.author) fields.push(Field.author, ev.author);
  if (ev.username) fields.push(Field.username, ev.username);
  if (Object.keys(ev.details).length > 0) fields.push(Field.details, JSON.stringify(ev.details));
  return fields;
}

/**
 * Decodes a stream entry written by us or by another producer.
 * Returns a reason string when the entry is not a valid event.
 */
export function fromStreamFields(id: string, fields: string[]): StoredEvent | string {
  let routingKey = "";
  let kref = "";
  let author = "";
  let username = "";
  let details: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1] as string;
    switch (fields[i]) {
      case Field.routingKey:
        routingKey = value;
        break;
      case Field.kref:
        kref = value;
        break;
      case Field.author:
        author = value;
        break;
      case Field.username:
        username = value;
        break;
      case Field.details: {
        const parsed = parseDetails(value);
        if (typeof parsed === "string") return parsed;
        details = parsed;
        break;
      }
    }
  }
  if (!routingKey) return `missing ${Field.routingKey}`;
  if (!kref) return `missing ${Field.kref}`;
  const problem = storedKeyProblem(routingKey, kref);
  if (problem) return problem;
  return { id, routingKey, kref, author, username, details };
}

function parseDetails(text: string): Record<string, string> | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `${Field.details} is not JSON`;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return `${Field.details} is not a JSON object`;
  for (const v of Object.values(parsed)) {
    if (typeof v !== "string") return `${Field.details} values must be strings`;
  }
  return parsed as Record<string, string>;
}
