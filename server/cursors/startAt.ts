/** Where a subscription (or a new consumer group) begins. */
export type StartAt =
  | { kind: "live" }
  /** Strictly after this stream ID (a client's cursor), issued in `epoch` (undefined: a cursor without one). */
  | { kind: "after"; id: string; epoch: string | undefined }
  /** At or after this stream ID (from a timestamp: "<ms>-0"). */
  | { kind: "from"; id: string }
  | { kind: "beginning" };
