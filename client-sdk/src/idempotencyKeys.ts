// Idempotency keys the client gives every published event that has none: a
// producer id (random, per client) and a sequence number. Retries of one
// publish reuse its keys, so the server stores each event once however often
// the publish is sent; two clients never share a producer id, and a restarted
// process starts a new one (its sequence restarts, so a fixed id would collide
// with the previous run's keys within the duplicate window).
import { randomBytes } from "node:crypto";

/** Makes `<producer id>-<sequence>` keys; the producer id is 16 random base64url characters. */
export class IdempotencyKeys {
  /** This producer's id (the part before the last "-" of its keys). */
  readonly producerId = randomBytes(12).toString("base64url");
  private seq = 0;

  /** The next key. */
  next(): string {
    return `${this.producerId}-${(this.seq++).toString(36)}`;
  }
}
