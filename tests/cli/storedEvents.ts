// What a test server's Redis holds for its default tenant, read directly (not through the
// server under test): to count copies exactly, duplicates included.
import { Field, tenantKeys } from "../../server/redis/layout.js";
import type { TestServer } from "../helpers.js";

/** An event as stored: the fields a copy must keep. */
export interface StoredEvent {
  routingKey: string;
  kref: string;
  author: string;
  username: string;
  details: Record<string, string>;
}

/** The default tenant's stream key of `server`. */
export function streamKey(server: TestServer): string {
  return tenantKeys(server.config.keyPrefix, server.config.tenant).events;
}

/** Every event in the default tenant's stream of `server`, in stream order. */
export async function storedEvents(server: TestServer): Promise<StoredEvent[]> {
  const entries = (await server.redis.xrange(streamKey(server), "-", "+")) as [string, string[]][];
  return entries.map(([, fields]) => {
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string;
    return {
      routingKey: f[Field.routingKey] ?? "",
      kref: f[Field.kref] ?? "",
      author: f[Field.author] ?? "",
      username: f[Field.username] ?? "",
      details: f[Field.details] ? (JSON.parse(f[Field.details] as string) as Record<string, string>) : {},
    };
  });
}
