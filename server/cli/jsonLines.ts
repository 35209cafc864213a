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

/**
 * Splits a byte stream into lines as chunks arrive (constant memory, and the
 * reader is paused by the for-await while the caller publishes). Yields each
 * line with its 1-based number and how many bytes have been read so far.
 */
export async function* lines(input: AsyncIterable<Buffer | string>): AsyncGenerator<{ text: string; number: number; bytesRead: number }> {
  let rest = "";
  let number = 0;
  let bytesRead = 0;
  const decoder = new TextDecoder();
  for await (const chunk of input) {
    bytesRead += chunk.length;
    rest += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    let nl = rest.indexOf("\n");
    while (nl >= 0) {
      yield { text: rest.slice(0, nl).replace(/\r$/, ""), number: ++number, bytesRead };
      rest = rest.slice(nl + 1);
      nl = rest.indexOf("\n");
    }
  }
  rest += decoder.decode();
  if (rest.length > 0) yield { text: rest.replace(/\r$/, ""), number: ++number, bytesRead };
}

function optionalString(o: Record<string, unknown>, key: string, line: number): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new BadLineError(line, `"${key}" must be a string`);
  return v;
}

/**
 * Parses one JSON line `{routingKey, kref, author?, username?, details?}` into
 * an event. Other fields (e.g. cursor and timestamp from `tail --json`) are
 * ignored; the server validates the values themselves.
 */
export function parseEventLine(text: string, line: number): NewEvent {
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
  return event;
}
