// grpc.health.v1.Health: Check, List and Watch. Probes call it without
// credentials, so these handlers never resolve a caller: an auth layer that
// lives in resolveCaller leaves them open without a special case, and an
// interceptor can exempt HEALTH_SERVICE_NAME by method path.
import { type ServerUnaryCall, type ServerWritableStream, type sendUnaryData, status } from "@grpc/grpc-js";
import type { HealthCheckRequest__Output } from "../../client-sdk/src/generated/grpc/health/v1/HealthCheckRequest.js";
import type { HealthCheckResponse } from "../../client-sdk/src/generated/grpc/health/v1/HealthCheckResponse.js";
import type { HealthListResponse } from "../../client-sdk/src/generated/grpc/health/v1/HealthListResponse.js";
import { quoted } from "../errors.js";
import { HEALTH_CHECKED_SERVICES, type Health } from "../observability/health.js";

/** Fully-qualified name of the health service; its method paths start with `/${HEALTH_SERVICE_NAME}/`. */
export const HEALTH_SERVICE_NAME = "grpc.health.v1.Health";

/** The Health service's handlers, answering from `health` (every known service shares its status). */
export function healthHandlers(health: Health) {
  return {
    Check(call: ServerUnaryCall<HealthCheckRequest__Output, HealthCheckResponse>, callback: sendUnaryData<HealthCheckResponse>) {
      const service = call.request.service;
      const current = health.statusOf(service);
      if (!current) {
        callback({ code: status.NOT_FOUND, details: `unknown service ${quoted(service)}; known: ${knownServices()}` });
        return;
      }
      callback(null, { status: current });
    },

    List(_call: ServerUnaryCall<unknown, HealthListResponse>, callback: sendUnaryData<HealthListResponse>) {
      const statuses: Record<string, HealthCheckResponse> = {};
      for (const service of HEALTH_CHECKED_SERVICES) statuses[service] = { status: health.status };
      callback(null, { statuses });
    },

    /** The current status at once, then one message per change; ends (OK) when the server shuts down. */
    Watch(call: ServerWritableStream<HealthCheckRequest__Output, HealthCheckResponse>) {
      const service = call.request.service;
      let sent: string | undefined;
      const send = () => {
        const next = health.statusOf(service) ?? "SERVICE_UNKNOWN";
        if (next === sent) return;
        sent = next;
        call.write({ status: next });
      };
      send();
      const unwatch = health.watch({ changed: send, ended: () => call.end() });
      call.on("cancelled", unwatch);
      call.on("error", unwatch);
    },
  };
}

function knownServices(): string {
  return HEALTH_CHECKED_SERVICES.map((s) => JSON.stringify(s)).join(", ");
}
