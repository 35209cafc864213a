import { createClient, type StreamgateClient } from "../../client-sdk/src/index.js";
import { UsageError } from "./cliError.js";
import type { FlagValues } from "./command.js";

export const DEFAULT_ADDRESS = "127.0.0.1:50051";
const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Where to connect and with what token: flags first, then STREAMGATE_ADDRESS / STREAMGATE_TOKEN. */
export interface Connection {
  address: string;
  token: string | undefined;
}

export function connectionFrom(values: FlagValues, env: NodeJS.ProcessEnv): Connection {
  const fromFlag = typeof values.address === "string";
  const address = (values.address as string | undefined) ?? (env.STREAMGATE_ADDRESS || DEFAULT_ADDRESS);
  const m = HOST_PORT.exec(address);
  if (!m || Number(m[2]) > 65_535) {
    throw new UsageError(
      `${fromFlag ? "--address" : "STREAMGATE_ADDRESS"} must be host:port (e.g. ${DEFAULT_ADDRESS}), got ${JSON.stringify(address)}`,
    );
  }
  const token = (values.token as string | undefined) ?? (env.STREAMGATE_TOKEN || undefined);
  return { address, token };
}

/** A client for the connection (close it when done). */
export function connect(connection: Connection): StreamgateClient {
  return createClient({ address: connection.address, ...(connection.token ? { token: connection.token } : {}) });
}
