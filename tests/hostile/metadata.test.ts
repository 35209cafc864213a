// Metadata grpc-js cannot represent (a text value outside printable ASCII): it
// used to be dropped silently (the call then ran as if the entry were absent:
// another tenant's x-tenant-id ignored, a mangled token treated as none), and
// grpc-js printed the whole value, token included, through its own logger.
// Now the call is refused naming the entry, and no log line holds the token.
import { connect } from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "../../client-sdk/src/index.js";
import { capturedServer, expectNoSecrets } from "../logCapture.js";

/** A GetEventCapabilities call over raw HTTP/2 with `headers` as they are (grpc-js clients refuse such values). */
function rawCall(address: string, headers: Record<string, string>): Promise<{ status: number; message: string }> {
  return new Promise((resolve, reject) => {
    const session = connect(`http://${address}`);
    session.on("error", reject);
    const req = session.request({
      ":method": "POST",
      ":path": "/kumiho.KumihoService/GetEventCapabilities",
      "content-type": "application/grpc",
      te: "trailers",
      ...headers,
    });
    let status = -1;
    let message = "";
    const take = (h: Record<string, unknown>) => {
      if (h["grpc-status"] !== undefined) status = Number(h["grpc-status"]);
      if (h["grpc-message"] !== undefined) message = decodeURIComponent(String(h["grpc-message"]));
    };
    req.on("response", take);
    req.on("trailers", take);
    req.on("data", () => {});
    req.on("end", () => {
      session.close();
      resolve({ status, message });
    });
    req.on("error", reject);
    req.end(Buffer.from([0, 0, 0, 0, 0])); // an empty GetEventCapabilitiesRequest
  });
}

describe("metadata values that are not printable ASCII", () => {
  let server: Awaited<ReturnType<typeof capturedServer>>;
  let token: string;
  beforeAll(async () => {
    server = await capturedServer({ auth: "keys" });
    ({ token } = await server.app.tenancy.keyStore.create({ tenant: "acme", tier: "enterprise" }));
  });
  afterAll(async () => {
    await server.app.close(2000);
  });

  it("a valid token with a non-ASCII character appended: UNAUTHENTICATED naming authorization; the token is in no log line", async () => {
    const res = await rawCall(server.app.address, { authorization: `Bearer ${token} é` });
    expect(res.status).toBe(Code.UNAUTHENTICATED);
    expect(res.message).toMatch(/metadata "authorization" had characters outside printable ASCII/);
    expectNoSecrets(server.text(), [token, token.slice(3)]);
    expect(server.text()).toMatch(/Failed to add metadata entry authorization: \[value redacted\]/);
  });

  it("a non-ASCII x-tenant-id is refused with INVALID_ARGUMENT, not ignored", async () => {
    const ok = await rawCall(server.app.address, { authorization: `Bearer ${token}` });
    expect(ok.status).toBe(Code.OK);
    const res = await rawCall(server.app.address, { authorization: `Bearer ${token}`, "x-tenant-id": "acmé" });
    expect(res.status).toBe(Code.INVALID_ARGUMENT);
    expect(res.message).toMatch(/metadata "x-tenant-id" had characters outside printable ASCII/);
  });
});
