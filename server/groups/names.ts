import { randomBytes } from "node:crypto";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Group and member names: 1-64 of [A-Za-z0-9_.-], starting with a letter or digit (they go into Redis key names). */
export function checkName(what: "group" | "member", name: string): string | null {
  if (name === "") return `${what} name is required`;
  if (!NAME.test(name))
    return `${what} name "${name.slice(0, 80)}" must be 1-64 characters of [A-Za-z0-9_.-], starting with a letter or digit`;
  return null;
}

export function generatedMemberName(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString("hex")}`;
}
