// REDIS_URL: which forms ioredis accepts, checked before anything connects, and
// how to show one in a message without its password.

/** Why `url` is not a Redis address ioredis can use, or undefined when it is. */
export function redisUrlProblem(url: string): string | undefined {
  // ioredis reads a string starting with "/" as the path of a unix socket.
  if (url.startsWith("/")) return url.length > 1 ? undefined : "the unix socket path is empty";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "it is not a URL";
  }
  switch (parsed.protocol) {
    case "redis:":
    case "rediss:":
      if (!parsed.hostname) return "it names no host";
      // ioredis takes the path as the database number.
      if (!/^(\/\d*)?$/.test(parsed.pathname)) return `the path must be a database number, got "${parsed.pathname}"`;
      return undefined;
    case "unix:":
      // unix:///path/redis.sock: ioredis uses only the path.
      if (parsed.host) return "a unix socket URL has no host (unix:///path/redis.sock)";
      return parsed.pathname.length > 1 ? undefined : "the unix socket path is empty";
    default:
      return `the scheme must be redis://, rediss:// or unix://, got ${parsed.protocol}//`;
  }
}

/**
 * `url` with any password (or lone user-info, which Redis takes as a password)
 * replaced by `***`, for messages and logs: `redis://app:***@redis:6379`.
 * Works on strings that are not valid URLs too.
 */
export function redactRedisUrl(url: string): string {
  const queryAt = url.search(/[?#]/);
  const head = queryAt < 0 ? url : url.slice(0, queryAt);
  const at = head.lastIndexOf("@");
  if (at < 0) return url;
  const scheme = head.indexOf("//");
  const start = scheme >= 0 && scheme < at ? scheme + 2 : 0;
  const userInfo = head.slice(start, at);
  const colon = userInfo.indexOf(":");
  const user = colon > 0 ? `${userInfo.slice(0, colon)}:` : colon === 0 ? ":" : "";
  return `${url.slice(0, start)}${user}***${url.slice(at)}`;
}
