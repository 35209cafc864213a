/**
 * What a tenant id may be. Tenant ids become part of Redis keys inside a
 * `{...}` hash tag, so braces, colons and anything else that could alter the
 * key layout (or the Cluster slot) are excluded.
 */
export const TENANT_ID = /^[a-z0-9_-]{1,64}$/;

/** True when `id` is a valid tenant id. */
export function isTenantId(id: string): boolean {
  return TENANT_ID.test(id);
}

/** Why `id` is not a tenant id, or undefined when it is one. */
export function tenantIdProblem(id: string): string | undefined {
  if (isTenantId(id)) return undefined;
  return `tenant id ${JSON.stringify(id.slice(0, 80))} is invalid: use 1 to 64 characters of a-z, 0-9, "_" and "-"`;
}
