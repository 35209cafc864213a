import type { DeadLetter, GroupInfo } from "../../../client-sdk/src/index.js";
import { toCliError, UsageError } from "../cliError.js";
import { type Command, positiveInt } from "../command.js";
import { connect, connectionFrom } from "../connect.js";
import { ExitCode } from "../exitCodes.js";

const ACTIONS = ["list", "describe", "dead-letters", "replay", "purge"] as const;

function groupLine(g: GroupInfo): string {
  const members = g.members.map((m) => `${m.name}(${m.pending})`).join(" ") || "-";
  return `${g.group.padEnd(20)} pending ${String(g.pending).padStart(6)}  lag ${String(g.lag).padStart(7)}  dead ${String(g.deadLetters).padStart(5)}  members ${members}`;
}

function describeText(g: GroupInfo): string {
  return [
    `group            ${g.group}`,
    `routing filter   ${g.routingKeyFilter || "(all)"}`,
    `kref filter      ${g.krefFilter || "(all)"}`,
    `max deliveries   ${g.maxDeliveries}`,
    `ack timeout      ${g.ackTimeoutMs} ms`,
    `pending          ${g.pending}`,
    `lag              ${g.lag < 0 ? "unknown" : g.lag}`,
    `dead letters     ${g.deadLetters}`,
    "members",
    ...g.members.map((m) => `  ${m.name.padEnd(24)} pending ${m.pending}, idle ${m.idleMs} ms`),
    "",
  ].join("\n");
}

function deadLetterLine(d: DeadLetter): string {
  const what = d.event ? `${d.event.routingKey} ${d.event.kref.uri}` : "(undecodable event)";
  return `${d.id}  ${d.failedAt}  x${d.deliveryCount}  ${d.reason}${d.error ? ` (${d.error})` : ""}  ${what}  cursor ${d.originalCursor}`;
}

/** `streamgate groups ...`: consumer-group introspection and dead letters. */
export const groups: Command = {
  name: "groups",
  summary: "inspect consumer groups; list, replay or purge dead letters",
  usage: "<list | describe GROUP | dead-letters GROUP | replay GROUP [ID...] | purge GROUP (ID... | --all)> [options]",
  description: [
    "Consumer groups of your tenant (enterprise tier): members with their pending deliveries, pending, lag and",
    "dead letters. replay moves dead letters (all, or the given ids) back into the group; purge deletes them.",
  ].join("\n"),
  connects: true,
  positionals: true,
  flags: {
    json: { type: "boolean", short: "j", description: "print JSON (one object per line for lists)" },
    limit: { type: "string", short: "n", value: "<count>", description: "dead-letters: at most this many (default 100)" },
    after: { type: "string", value: "<id>", description: "dead-letters: start after this dead-letter id" },
    all: { type: "boolean", description: "purge: delete every dead letter of the group" },
  },
  examples: [
    "streamgate groups list",
    "streamgate groups describe thumbnailer --json",
    "streamgate groups dead-letters thumbnailer -n 20",
    "streamgate groups replay thumbnailer",
    "streamgate groups purge thumbnailer 1700000000000-0",
  ],
  async run(values, io) {
    const [action, group, ...ids] = (values._ as string[] | undefined) ?? [];
    if (!action || !(ACTIONS as readonly string[]).includes(action)) {
      throw new UsageError(`expected one of ${ACTIONS.join(", ")} (see streamgate groups --help)`);
    }
    if (action !== "list" && !group) throw new UsageError(`${action} needs a group name`);
    if ((action === "list" || action === "describe" || action === "dead-letters") && ids.length > 0) {
      throw new UsageError(`unexpected argument ${ids[0]}`);
    }
    if (action === "purge" && ids.length === 0 && !values.all) throw new UsageError("purge needs dead-letter ids, or --all");
    const connection = connectionFrom(values, io.env);
    const client = connect(connection);
    const out = (v: unknown, text: string) => io.stdout.write(values.json ? `${JSON.stringify(v)}\n` : text);
    try {
      switch (action) {
        case "list": {
          const list = await client.groups.list();
          if (values.json) for (const g of list) io.stdout.write(`${JSON.stringify(g)}\n`);
          else io.stdout.write(list.length ? `${list.map(groupLine).join("\n")}\n` : "no consumer groups\n");
          break;
        }
        case "describe": {
          const g = await client.groups.describe(group as string);
          out(g, describeText(g));
          break;
        }
        case "dead-letters": {
          const limit = positiveInt(values, "limit", 100);
          const after = typeof values.after === "string" ? values.after : undefined;
          const list = await client.groups.deadLetters(group as string, { limit, ...(after ? { after } : {}) });
          if (values.json) for (const d of list) io.stdout.write(`${JSON.stringify(d)}\n`);
          else io.stdout.write(list.length ? `${list.map(deadLetterLine).join("\n")}\n` : "no dead letters\n");
          break;
        }
        case "replay": {
          const n = await client.groups.replayDeadLetters(group as string, ids);
          out({ replayed: n }, `replayed ${n} dead letter${n === 1 ? "" : "s"} into ${group}\n`);
          break;
        }
        case "purge": {
          const n = await client.groups.purgeDeadLetters(group as string, ids);
          out({ purged: n }, `purged ${n} dead letter${n === 1 ? "" : "s"} of ${group}\n`);
          break;
        }
      }
      return ExitCode.ok;
    } catch (err) {
      throw toCliError(err, connection.address);
    } finally {
      client.close();
    }
  },
};
