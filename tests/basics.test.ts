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
    expect(sub.lastCursor).toBe(cursor);
    expect(got?.routingKey).toBe("revision.created");
    expect(got?.kref.uri).toBe("kref://film/shots/sh001.model?r=1");
    expect(got?.kref).toMatchObject({ project: "film", space: "shots", name: "sh001", kind: "model", revision: 1 });
    expect(got?.tenantId).toBe("default");
    expect(got?.author).toBe("tester");
    expect(got?.details).toEqual({ i: "1" });
    expect(got?.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Date.parse(got?.timestamp ?? "")).toBe(Number(cursor.split("-")[0]));
  });

  it("routes each event only to subscribers whose filters match", async () => {
    const revisions = t.client.eventStream({ routingKeyFilter: "revision.*" });
    const film = t.client.eventStream({ krefFilter: "kref://film/**/*.model" });
    const both = t.client.eventStream({ routingKeyFilter: "revision.tagged", krefFilter: "kref://film/**" });
    await Promise.all([revisions.ready, film.ready, both.ready]);
    const a = await t.client.publish(event(1, "revision.created", "kref://film/a/x.model?r=2"));
    const b = await t.client.publish(event(2, "revision.tagged", "kref://game/a/x.model"));
    const c = await t.client.publish(event(3, "revision.tagged", "kref://film/a/x.rig"));
    const d = await t.client.publish(event(4, "item.deleted", "kref://film/a/y.model"));
    const [r, f, bo] = await Promise.all([take(revisions, 3), take(film, 2), take(both, 1)]);
    expect(r.map((e) => e.cursor)).toEqual([a, b, c]);
    expect(f.map((e) => e.cursor)).toEqual([a, d]);
    expect(bo.map((e) => e.cursor)).toEqual([c]);
  });
});
