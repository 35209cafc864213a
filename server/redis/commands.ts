// Lua scripts, each in its own file under scripts/, registered once per
// connection with defineCommand (EVALSHA with a NOSCRIPT fallback).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Redis } from "ioredis";

const here = dirname(fileURLToPath(import.meta.url));

function source(path: string): string {
  // Scripts sit beside this file in the source tree; the build copies them next to the JS.
  return readFileSync(join(here, "scripts", path), "utf8");
}

/** A script, after the shared Lua it uses (scripts/lib/<name>.lua: Redis has no includes). */
function script(name: string, uses: readonly string[] = []): string {
  return [...uses.map((lib) => source(`lib/${lib}.lua`)), source(`${name}.lua`)].join("\n");
}

export interface StreamgateCommands {
  sgAppendEvents(
    events: string,
    epoch: string,
    trimmed: string,
    dedup: string,
    dedupA: string,
    dedupB: string,
    newEpoch: string,
    windowMs: number,
    ...fieldsByEvent: string[]
  ): Promise<[epoch: string, ids: string[], duplicates: string]>;
  sgStreamState(
    events: string,
    epoch: string,
    trimmed: string,
    dedup: string,
    dedupA: string,
    dedupB: string,
    newEpoch: string,
    probeId: string,
  ): Promise<
    [epoch: string, lastGenerated: string, first: string, maxDeleted: string, trimmedMarker: string, probeExists: number, created: number]
  >;
  sgBumpEpoch(epoch: string, seen: string, next: string): Promise<string>;
  sgTrim(events: string, trimmed: string, maxlen: number, minid: string, slack: number): Promise<number>;
  sgGroupJoin(
    events: string,
    retry: string,
    settings: string,
    groups: string,
    epoch: string,
    trimmed: string,
    dedup: string,
    dedupA: string,
    dedupB: string,
    group: string,
    routingKeyFilter: string,
    krefFilter: string,
    startId: string,
    maxDeliveries: number,
    ackTimeoutMs: number,
    now: string,
    newEpoch: string,
  ): Promise<[number, string, string, string, string]>;
  sgGroupClaim(
    stream: string,
    dlq: string,
    errors: string,
    group: string,
    member: string,
    minIdleMs: number,
    count: number,
    maxDeliveries: number,
    owner: string,
    now: string,
    label: string,
    dlqMaxLen: number,
    start: string,
  ): Promise<[[string, string[], number][], number, number, string]>;
  sgDlqReplay(dlq: string, retry: string, maxCount: number, ...ids: string[]): Promise<number>;
  sgGroupRetryTrim(retry: string, group: string): Promise<number>;
  sgLookupKey(keyHashes: string, keys: string, tenants: string, tokenHash: string): Promise<[string, string | null] | null>;
  sgAcquireStream(streams: string, member: string, limit: number, ttlMs: number): Promise<[number, number]>;
  sgRenewStreams(streams: string, ttlMs: number, ...members: string[]): Promise<number>;
}

export type SgRedis = Redis & StreamgateCommands;

export function withCommands(redis: Redis): SgRedis {
  redis.defineCommand("sgAppendEvents", { numberOfKeys: 6, lua: script("appendEvents", ["incarnation"]) });
  redis.defineCommand("sgStreamState", { numberOfKeys: 6, lua: script("streamState", ["incarnation"]) });
  redis.defineCommand("sgBumpEpoch", { numberOfKeys: 1, lua: script("bumpEpoch") });
  redis.defineCommand("sgTrim", { numberOfKeys: 2, lua: script("trim") });
  redis.defineCommand("sgGroupJoin", { numberOfKeys: 9, lua: script("groupJoin", ["incarnation"]) });
  redis.defineCommand("sgGroupClaim", { numberOfKeys: 3, lua: script("groupClaim") });
  redis.defineCommand("sgDlqReplay", { numberOfKeys: 2, lua: script("dlqReplay") });
  redis.defineCommand("sgGroupRetryTrim", { numberOfKeys: 1, lua: script("groupRetryTrim") });
  redis.defineCommand("sgLookupKey", { numberOfKeys: 3, lua: script("lookupKey") });
  redis.defineCommand("sgAcquireStream", { numberOfKeys: 1, lua: script("acquireStream") });
  redis.defineCommand("sgRenewStreams", { numberOfKeys: 1, lua: script("renewStreams") });
  return redis as SgRedis;
}
