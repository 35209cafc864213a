// Helpers of the SDK resume tests: a loop that drains a subscription, and a
// publisher that keeps publishing through outages.
import type { EventSubscription, StreamgateClient } from "../../client-sdk/src/index.js";
import { event, sleep } from "../helpers.js";

/** Drains a subscription into `into` (cursors); resolves with the error that ended the loop, if any. */
export function consume(sub: EventSubscription, into: string[]): Promise<unknown> {
  return (async () => {
    for await (const e of sub) into.push(e.cursor);
  })().then(
    () => undefined,
    (err: unknown) => err,
  );
}

/** Publishes event after event until stopped; a failed publish (server or Redis down) is retried with the next one. */
export function startPublisher(client: StreamgateClient) {
  let running = true;
  let published = 0;
  const done = (async () => {
    for (let i = 0; running; i++) {
      try {
        await client.publish(event(i), { timeoutMs: 5000 });
        published++;
      } catch {
        await sleep(5);
      }
    }
  })();
  return {
    get published() {
      return published;
    },
    async stop() {
      running = false;
      await done;
    },
  };
}
