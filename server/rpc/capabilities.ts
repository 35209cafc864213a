import type { ServerUnaryCall, sendUnaryData } from "@grpc/grpc-js";
import type { EventCapabilities } from "../../client-sdk/src/generated/kumiho/EventCapabilities.js";
import type { RpcContext } from "./context.js";
import { toServiceError } from "./toServiceError.js";

/** The caller's tier exactly as enforced. */
export function capabilitiesHandler(ctx: RpcContext) {
  return (call: ServerUnaryCall<unknown, EventCapabilities>, callback: sendUnaryData<EventCapabilities>): void => {
    (async () => ctx.resolveCaller(call.metadata))().then(
      ({ tier }) =>
        callback(null, {
          supportsReplay: tier.supportsReplay,
          supportsCursor: tier.supportsCursor,
          supportsConsumerGroups: tier.supportsConsumerGroups,
          // The wire field is whole hours: a fractional window (tiers file) is reported rounded up.
          maxRetentionHours: String(tier.maxRetentionHours < 0 ? -1 : Math.ceil(tier.maxRetentionHours)),
          maxBufferSize: String(tier.maxBufferSize),
          tier: tier.name,
        }),
      (err: unknown) => callback(toServiceError(err, ctx.log, call.metadata)),
    );
  };
}
