// streamgate.v1.Admin: API keys and tiers, for operators holding the admin key.
import type { ServerUnaryCall, sendUnaryData } from "@grpc/grpc-js";
import type { ApiKey } from "../../client-sdk/src/generated/streamgate/v1/ApiKey.js";
import type { CreateKeyRequest__Output } from "../../client-sdk/src/generated/streamgate/v1/CreateKeyRequest.js";
import type { CreateKeyResponse } from "../../client-sdk/src/generated/streamgate/v1/CreateKeyResponse.js";
import type { ListKeysRequest__Output } from "../../client-sdk/src/generated/streamgate/v1/ListKeysRequest.js";
import type { ListKeysResponse } from "../../client-sdk/src/generated/streamgate/v1/ListKeysResponse.js";
import type { RevokeKeyRequest__Output } from "../../client-sdk/src/generated/streamgate/v1/RevokeKeyRequest.js";
import type { RevokeKeyResponse } from "../../client-sdk/src/generated/streamgate/v1/RevokeKeyResponse.js";
import type { SetTierRequest__Output } from "../../client-sdk/src/generated/streamgate/v1/SetTierRequest.js";
import type { SetTierResponse } from "../../client-sdk/src/generated/streamgate/v1/SetTierResponse.js";
import { checkAdmin } from "../auth/adminGuard.js";
import type { ApiKeyInfo, KeyStore } from "../auth/keyStore.js";
import type { Logger } from "../observability/logger.js";
import { toServiceError } from "./toServiceError.js";

export interface AdminContext {
  store: KeyStore;
  adminKey: string | undefined;
  log: Logger;
}

function toApiKey(k: ApiKeyInfo): ApiKey {
  return { id: k.id, tenant: k.tenant, tier: k.tier, name: k.name, createdAt: k.createdAt };
}

function adminCall<Req, Res>(ctx: AdminContext, run: (req: Req) => Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    (async () => {
      checkAdmin(call.metadata, ctx.adminKey);
      return run(call.request);
    })().then(
      (res) => callback(null, res),
      (err: unknown) => callback(toServiceError(err, ctx.log, call.metadata)),
    );
  };
}

/** The Admin service's handlers. */
export function adminHandlers(ctx: AdminContext) {
  const { store } = ctx;
  return {
    CreateKey: adminCall<CreateKeyRequest__Output, CreateKeyResponse>(ctx, async (req) => {
      const created = await store.create({ tenant: req.tenant, tier: req.tier, name: req.name });
      ctx.log.info({ keyId: created.id, tenant: created.tenant, tier: created.tier }, "API key created");
      return { key: toApiKey(created), token: created.token, previousTier: created.previousTier ?? "" };
    }),
    ListKeys: adminCall<ListKeysRequest__Output, ListKeysResponse>(ctx, async (req) => ({
      keys: (await store.list(req.tenant || undefined)).map(toApiKey),
    })),
    RevokeKey: adminCall<RevokeKeyRequest__Output, RevokeKeyResponse>(ctx, async (req) => {
      const key = await store.revoke(req.id);
      ctx.log.info({ keyId: key.id, tenant: key.tenant }, "API key revoked");
      return { key: toApiKey(key) };
    }),
    SetTier: adminCall<SetTierRequest__Output, SetTierResponse>(ctx, async (req) => {
      const target = req.target === "keyId" ? { keyId: req.keyId ?? "" } : { tenant: req.tenant ?? "" };
      const res = await store.setTier(target, req.tier);
      ctx.log.info(res, "tenant tier set");
      return res;
    }),
  };
}
