import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { event, startTestServer, type TestServer, take } from "./helpers.js";

describe("publish and subscribe", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it("delivers a published event to a live subscriber with server-stamped fields", async () => {
    const sub = t.client.eventStream({ routingKeyFilter: "revision.*" });
    await sub.ready;
    const cursor = await t.client.publish(event(1));
    const [got] = await take(sub, 1);
    expect(got?.cursor).toBe(cursor);
    expect(got?.routingKey).toBe("revision.created");
    expect(got?.kref.uri).toBe("kref://film/shots/sh001.model?r=1");
    expect(got?.kref).toMatchObject({ project: "film", space: "shots", name: "sh001", kind: "model", revision: 1 });
    expect(got?.tenantId).toBe("default");
    expect(got?.details).toEqual({ i: "1" });
    expect(Date.parse(got?.timestamp ?? "")).toBe(Number(cursor.split("-")[0]));
  });
});
