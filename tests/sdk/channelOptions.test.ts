// The client's receive limit: well above what a Streamgate server sends in one message (batched
// Subscribe frames, dead-letter pages), so a large frame is delivered, not refused by grpc-js's 4 MiB default.
// A bare grpc-js server plays the server, so the test does not depend on how the real one sizes its frames.
import { Server, ServerCredentials, type ServerWritableStream, type ServiceDefinition, type sendUnaryData } from "@grpc/grpc-js";
import { fromJSON } from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { descriptor } from "../../client-sdk/src/generated/descriptor.js";
import { Code, createClient, type StreamgateClientError } from "../../client-sdk/src/index.js";

const MiB = 1024 * 1024;
let server: Server;
let address: string;

/** One Subscribe message of five 1 MiB events (5 MiB, over grpc-js's default 4 MiB receive limit). */
function subscribe(call: ServerWritableStream<unknown, unknown>): void {
  const events = Array.from({ length: 5 }, (_, i) => ({
    routingKey: "big.frame",
    kref: { uri: `kref://p/s/n${i}.k` },
    details: { blob: "x".repeat(MiB) },
    cursor: `1-${i}`,
  }));
  call.write({ events });
  call.end();
}

beforeAll(async () => {
  const pkg = fromJSON(descriptor, { keepCase: false, longs: String, defaults: true, oneofs: true });
  server = new Server();
  server.addService(pkg["streamgate.v1.Streamgate"] as ServiceDefinition, {
    Subscribe: subscribe,
    Publish: (_call: unknown, cb: sendUnaryData<unknown>) => cb({ code: Code.UNIMPLEMENTED }),
    PublishBatch: (_call: unknown, cb: sendUnaryData<unknown>) => cb({ code: Code.UNIMPLEMENTED }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  address = `127.0.0.1:${port}`;
});
afterAll(() => {
  server.forceShutdown();
});

async function receive(channelOptions?: Record<string, number>) {
  const client = createClient({ address, ...(channelOptions ? { channelOptions } : {}) });
  const sub = client.eventStream({ fromBeginning: true, resume: false });
  const sizes: number[] = [];
  try {
    for await (const e of sub) sizes.push(e.details.blob?.length ?? 0);
    return { sizes, error: undefined };
  } catch (err) {
    return { sizes, error: err as StreamgateClientError };
  } finally {
    client.close();
  }
}

describe("the client's receive limit", () => {
  it("is 16 MiB by default: a 5 MiB message arrives whole", async () => {
    const { sizes, error } = await receive();
    expect(error).toBeUndefined();
    expect(sizes).toEqual([MiB, MiB, MiB, MiB, MiB]);
  });

  it("channelOptions override it", async () => {
    const { sizes, error } = await receive({ "grpc.max_receive_message_length": 4 * MiB });
    expect(sizes).toEqual([]);
    expect(error?.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(error?.message).toMatch(/Received message larger than max/);
  });
});
