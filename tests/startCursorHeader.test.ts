// The server tells a new subscription where it starts (response header
// streamgate-start-cursor), so a client with no event yet can resume without a gap.
import { type ClientReadableStream, credentials, type Metadata, makeGenericClientConstructor } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, START_CURSOR_HEADER } from "../client-sdk/src/index.js";
import { kumihoService } from "../server/rpc/serviceDefinitions.js";
import { defaultTiers } from "../server/tenancy/tiers.js";
import { event, startTestServer, type TestServer } from "./helpers.js";

describe("streamgate-start-cursor response header", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it("a live start reports the stream's last ID (0-0 for an empty stream) in its epoch; the SDK exposes it as lastCursor", async () => {
    const empty = t.client.eventStream();
    await empty.ready;
    // The subscription created the stream: events published next are in the same epoch.
    const epoch = /^0-0\.([0-9a-f]{8})$/.exec(empty.lastCursor ?? "")?.[1];
    expect(epoch).toBeDefined();
    empty.close();

    expect((await t.client.publish(event(1))).endsWith(`.${epoch}`)).toBe(true);
    const last = await t.client.publish(event(2));
    for (const protocol of ["streamgate", "kumiho"] as const) {
      const client = createClient({ address: t.app.address, protocol });
      const sub = client.eventStream({ routingKeyFilter: "nothing.matches" });
      await sub.ready;
      expect(sub.lastCursor).toBe(last);
      client.close();
    }
  });

  it("a cursor start reports the cursor; replays from the beginning or a timestamp report none", async () => {
    const first = await t.client.publish(event(3));
    // A bare grpc-js client of the wire-frozen Kumiho service: the header is there for any client.
    const Kumiho = makeGenericClientConstructor(kumihoService, "KumihoService");
    const raw = new Kumiho(t.app.address, credentials.createInsecure()) as unknown as {
      EventStream(req: object): ClientReadableStream<unknown>;
      close(): void;
    };
    const headers = async (req: object) => {
      const call = raw.EventStream({ routingKeyFilter: "", krefFilter: "", ...req });
      const md = await new Promise<Metadata>((resolve) => call.once("metadata", resolve));
      call.on("error", () => {});
      call.cancel();
      return md.get(START_CURSOR_HEADER);
    };
    expect(await headers({ fromCursor: first })).toEqual([first]);
    expect(await headers({ cursor: first })).toEqual([first]);
    expect(await headers({ fromBeginning: true })).toEqual([]);
    expect(await headers({ fromTimestamp: "1970-01-01T00:00:00Z" })).toEqual([]);
    raw.close();
  });

  it("tiers without cursor support get no start cursor", async () => {
    const free = await startTestServer({}, () => ({ tenantId: "free", tier: defaultTiers.free! }));
    try {
      const sub = free.client.eventStream();
      await sub.ready;
      expect(sub.lastCursor).toBeUndefined();
    } finally {
      await free.close();
    }
  });
});
