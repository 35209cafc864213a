// JWT (RFC 7519) verification with node:crypto only: HS256 with a shared
// secret, RS256 and ES256 with public keys from a local JWKS file. Keys are
// never fetched over the network. The algorithm a token claims must match the
// key it is checked with, so a public key can never be used as an HMAC secret.
import { createHmac, createPublicKey, type JsonWebKey, type KeyObject, timingSafeEqual, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfigError } from "../config/loadConfig.js";

/** A token that does not verify; the message says why (never echoing the token). */
export class JwtError extends Error {
  override name = "JwtError";
}

/** A public key from a JWKS file. */
export interface PublicJwk {
  kid: string | undefined;
  alg: "RS256" | "ES256";
  key: KeyObject;
}

/** What tokens are checked against. */
export interface JwtKeys {
  hs256Secret?: Buffer;
  publicKeys: readonly PublicJwk[];
}

export interface VerifyOptions {
  /** Now, in ms since the epoch. */
  nowMs: number;
  /** Clock skew tolerated on exp and nbf, in seconds. */
  leewaySeconds: number;
  issuer?: string;
  audience?: string;
}

const SEGMENT = /^[A-Za-z0-9_-]*$/;

function decodeJson(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
  } catch {
    throw new JwtError(`token ${what} is not base64url-encoded JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new JwtError(`token ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function checkSignature(alg: string, kid: unknown, signingInput: string, signature: Buffer, keys: JwtKeys): void {
  if (alg === "HS256") {
    if (!keys.hs256Secret) throw new JwtError("HS256 tokens are not accepted here (no STREAMGATE_JWT_SECRET)");
    const expected = createHmac("sha256", keys.hs256Secret).update(signingInput).digest();
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) throw new JwtError("token signature is invalid");
    return;
  }
  if (alg !== "RS256" && alg !== "ES256")
    throw new JwtError(`token algorithm "${String(alg).slice(0, 16)}" is not accepted (HS256, RS256, ES256)`);
  const candidates = keys.publicKeys.filter((k) => k.alg === alg && (kid === undefined || k.kid === kid));
  if (candidates.length === 0)
    throw new JwtError(`no ${alg} key${kid === undefined ? "" : ` with kid "${String(kid).slice(0, 64)}"`} to check this token with`);
  const data = Buffer.from(signingInput);
  for (const { key } of candidates) {
    const ok =
      alg === "ES256" ? verify("sha256", data, { key, dsaEncoding: "ieee-p1363" }, signature) : verify("sha256", data, key, signature);
    if (ok) return;
  }
  throw new JwtError("token signature is invalid");
}

/** The largest |NumericDate| a Date can hold: 8.64e15 ms (ECMA-262 "Time Values and Time Range"). */
const MAX_NUMERIC_DATE = 8.64e12;

/**
 * A time claim (`exp`, `nbf`) as seconds since the epoch, or undefined when absent. It must be a
 * NumericDate (RFC 7519 section 2: a JSON number of seconds, fractions allowed) that a Date can
 * hold: JSON.parse also yields 1e400 as Infinity and -1e20 as a number no Date reaches, which
 * would make the comparisons below meaningless and the messages unprintable.
 */
function timeClaim(claims: Record<string, unknown>, name: "exp" | "nbf"): number | undefined {
  const value = claims[name];
  if (value === undefined) return undefined;
  if (typeof value !== "number") throw new JwtError(`token ${name} is not a number`);
  if (!Number.isFinite(value) || Math.abs(value) > MAX_NUMERIC_DATE)
    throw new JwtError(
      `token ${name} ${String(value).slice(0, 32)} is out of range (seconds since 1970 within +-${MAX_NUMERIC_DATE}, the range of a date)`,
    );
  return value;
}

function checkTimes(claims: Record<string, unknown>, opts: VerifyOptions): void {
  const now = opts.nowMs / 1000;
  const exp = timeClaim(claims, "exp");
  const nbf = timeClaim(claims, "nbf");
  if (exp !== undefined && now >= exp + opts.leewaySeconds) throw new JwtError(`token expired at ${new Date(exp * 1000).toISOString()}`);
  if (nbf !== undefined && now < nbf - opts.leewaySeconds)
    throw new JwtError(`token is not valid before ${new Date(nbf * 1000).toISOString()}`);
}

function checkIssuerAudience(claims: Record<string, unknown>, opts: VerifyOptions): void {
  if (opts.issuer !== undefined && claims.iss !== opts.issuer) throw new JwtError("token iss is not the expected issuer");
  if (opts.audience !== undefined) {
    const aud = claims.aud;
    const ok = aud === opts.audience || (Array.isArray(aud) && aud.includes(opts.audience));
    if (!ok) throw new JwtError("token aud does not include this server's audience");
  }
}

/** Verifies a compact JWS and returns its claims; throws {@link JwtError}. */
export function verifyJwt(token: string, keys: JwtKeys, opts: VerifyOptions): Record<string, unknown> {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) throw new JwtError("token is not a JWT (header.payload.signature)");
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJson(h, "header");
  if (typeof header.alg !== "string") throw new JwtError("token header has no alg");
  if (header.crit !== undefined) throw new JwtError("token header has crit extensions, which are not supported");
  checkSignature(header.alg, header.kid, `${h}.${p}`, Buffer.from(s, "base64url"), keys);
  const claims = decodeJson(p, "payload");
  checkTimes(claims, opts);
  checkIssuerAudience(claims, opts);
  return claims;
}

function toPublicJwk(jwk: Record<string, unknown>, where: string): PublicJwk | undefined {
  if (jwk.use !== undefined && jwk.use !== "sig") return undefined;
  let alg: PublicJwk["alg"];
  if (jwk.kty === "RSA" && (jwk.alg === undefined || jwk.alg === "RS256")) alg = "RS256";
  else if (jwk.kty === "EC" && jwk.crv === "P-256" && (jwk.alg === undefined || jwk.alg === "ES256")) alg = "ES256";
  else return undefined;
  if (jwk.d !== undefined)
    throw new ConfigError(`${where}: key ${String(jwk.kid ?? "")} is a private key; the JWKS must hold public keys only`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk as JsonWebKey, format: "jwk" });
  } catch (err) {
    throw new ConfigError(`${where}: key ${String(jwk.kid ?? "")} is not a valid ${alg} public key: ${(err as Error).message}`);
  }
  return { kid: typeof jwk.kid === "string" ? jwk.kid : undefined, alg, key };
}

/** Reads the RS256 and ES256 public keys of a JWKS file (other keys are ignored). */
export function loadJwks(path: string): PublicJwk[] {
  const where = `STREAMGATE_JWKS_FILE ${path}`;
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ConfigError(`${where}: cannot read it as JSON: ${(err as Error).message}`);
  }
  const list = (doc as { keys?: unknown })?.keys;
  if (!Array.isArray(list)) throw new ConfigError(`${where}: must be a JWKS, {"keys": [...]}`);
  const keys = list.flatMap((jwk) => (typeof jwk === "object" && jwk !== null ? (toPublicJwk(jwk, where) ?? []) : []));
  if (keys.length === 0) throw new ConfigError(`${where}: holds no RS256 (RSA) or ES256 (EC P-256) signing key`);
  return keys;
}
