/** Splits a validated "host:port" (the host may be a bracketed IPv6 literal) into its parts. */
export function splitHostPort(listen: string): [host: string, port: number] {
  const i = listen.lastIndexOf(":");
  return [listen.slice(0, i), Number(listen.slice(i + 1))];
}

/** "host:port" a client can dial, bracketing a bare IPv6 host. */
export function joinHostPort(host: string, port: number): string {
  return `${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`;
}

/** The host as node:net wants it: without IPv6 brackets. */
export function unbracket(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}
