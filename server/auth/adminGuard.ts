import { type Metadata, status } from "@grpc/grpc-js";
import { StreamgateError } from "../errors.js";
import { bearerToken } from "../tenancy/caller.js";
import { secretsEqual } from "./apiKeyToken.js";

/**
 * Lets a call through only with `authorization: Bearer <adminKey>`, compared
 * in constant time. No credentials: UNAUTHENTICATED; other credentials (such
 * as a tenant's API key) or no admin key configured: PERMISSION_DENIED.
 */
export function checkAdmin(metadata: Metadata, adminKey: string | undefined): void {
  const token = bearerToken(metadata);
  if (adminKey === undefined) {
    throw new StreamgateError(
      status.PERMISSION_DENIED,
      "the Admin service is disabled on this server: set STREAMGATE_ADMIN_KEY to enable it",
    );
  }
  if (!secretsEqual(token, adminKey))
    throw new StreamgateError(status.PERMISSION_DENIED, "the Admin service needs the admin key (STREAMGATE_ADMIN_KEY)");
}
