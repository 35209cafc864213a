// API key tokens: "sg_" + 32 random bytes (base64url). Only the SHA-256 of a
// token is stored. A slow password hash is not needed: the token carries 256
// bits of entropy, so its hash cannot be reversed by guessing.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Every API key token starts with this, so leaked tokens are easy to recognise (and scan for). */
export const TOKEN_PREFIX = "sg_";
const TOKEN = /^sg_[A-Za-z0-9_-]{43}$/;

/** A new random token. Shown to its owner once; never stored. */
export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

/** A new key id: public, safe to log and list. */
export function newKeyId(): string {
  return `key_${randomBytes(8).toString("hex")}`;
}

/** True when `token` has the shape of a token {@link newToken} makes. */
export function looksLikeToken(token: string): boolean {
  return TOKEN.test(token);
}

/** Hex SHA-256 of a token: what Redis stores and looks keys up by. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/**
 * Compares two secrets in time that does not depend on where they differ or
 * on their lengths (both are hashed to 32 bytes first).
 */
export function secretsEqual(a: string, b: string): boolean {
  const da = createHash("sha256").update(a, "utf8").digest();
  const db = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(da, db);
}
