import type { ServerUnaryCall, sendUnaryData } from "@grpc/grpc-js";
import type { EventCapabilities } from "../../client-sdk/src/generated/kumiho/EventCapabilities.js";
import type { RpcContext } from "./context.js";
import { toServiceError } from "./toServiceError.js";

/** The caller's tier exactly as enforced. */
export function capabilitiesHandler(ctx: RpcContext) {
  return (call: ServerUnaryCall<unknown, EventCapabilities>, callback: sendUnaryData<EventCapabilities>): void => {
    try {
      const { tier } = ctx.resolveCaller(call.metadata);
      callback(null, {
        supportsReplay: tier.supportsReplay,
        supportsCursor: tier.supportsCursor,
        supportsConsumerGroups: tier.supportsConsumerGroups,
        maxRetentionHours: String(tier.maxRetentionHours),
        maxBufferSize: String(tier.maxBufferSize),
        tier: tier.name,
      });
    } catch (err) {
      callback(toServiceError(err, ctx.log));
    }
  };
}
