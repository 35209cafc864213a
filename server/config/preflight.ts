// Everything about the configuration that can be checked without starting anything, so that
// `npm start` reports a mistake before it starts an embedded redis-server.
import { checkAuthConfig } from "../auth/createAuth.js";
import { loadTiers } from "../tenancy/loadTiers.js";
import type { Config } from "./loadConfig.js";

/**
 * Checks what {@link loadConfig} cannot on its own: the tiers file (STREAMGATE_TIERS_FILE) and
 * the authentication settings against it. Throws a ConfigError naming the first problem;
 * startStreamgate runs the same checks again for callers that skip this one.
 */
export function preflight(config: Config): void {
  const tiers = loadTiers(config.tiersFile);
  checkAuthConfig(config, tiers);
}
