import { status } from "@grpc/grpc-js";
import type { Redis } from "ioredis";
import { StreamgateError } from "../errors.js";
import type { TenantKeys } from "../redis/layout.js";
import { compareIds } from "../redis/streamIds.js";
import { readStreamState } from "../redis/streamState.js";

/**
 * A cursor is resumable when nothing after it has been trimmed and it is not
 * beyond the stream's end (which means Redis lost or reset data): both cases
 * fail loudly instead of silently skipping or stalling.
 */
export async function checkCursor(redis: Redis, keys: TenantKeys, cursor: string): Promise<void> {
  const state = await readStreamState(redis, keys);
  if (compareIds(cursor, state.lastGeneratedId) > 0) {
    throw new StreamgateError(
      status.OUT_OF_RANGE,
      `cursor ${cursor} is beyond the last event of this stream (${state.lastGeneratedId}); the server's data may have been reset. ` +
        "Resubscribe with from_beginning or without a cursor.",
    );
  }
  if (compareIds(state.lowWater, cursor) > 0) {
    throw new StreamgateError(
      status.OUT_OF_RANGE,
      `cursor ${cursor} is older than the retained window; the earliest retained event is ${state.firstEntryId ?? "none (the stream is empty)"}. ` +
        "Use from_beginning to replay everything retained.",
      { "streamgate-earliest-cursor": state.firstEntryId ?? "" },
    );
  }
}
