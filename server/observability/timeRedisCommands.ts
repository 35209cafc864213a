import type { Command, Redis } from "ioredis";
import { redisCommandSeconds } from "./metrics.js";

/**
 * Records the round-trip time of every command sent on `redis` in
 * streamgate_redis_command_duration_seconds. ioredis has no per-command
 * timing event, so this wraps the connection's sendCommand, which single
 * commands, auto-pipelined commands, pipelines and MULTI all go through.
 * Commands replayed after a reconnect are timed once, from their first send.
 */
export function timeRedisCommands(redis: Redis): void {
  const send = redis.sendCommand.bind(redis) as (command: Command, ...rest: unknown[]) => unknown;
  const timed = new WeakSet<Command>();
  redis.sendCommand = ((command: Command, ...rest: unknown[]) => {
    if (!timed.has(command)) {
      timed.add(command);
      const done = redisCommandSeconds.startTimer({ command: command.name.toLowerCase() });
      const observe = () => {
        done();
      };
      command.promise.then(observe, observe);
    }
    return send(command, ...rest);
  }) as Redis["sendCommand"];
}
