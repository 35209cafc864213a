import { once } from "node:events";
import { type ServerDuplexStream, status } from "@grpc/grpc-js";
import type { ConsumeRequest__Output } from "../../client-sdk/src/generated/streamgate/v1/ConsumeRequest.js";
import type { JoinGroup__Output } from "../../client-sdk/src/generated/streamgate/v1/JoinGroup.js";
import { startPosition } from "../cursors/startPosition.js";
import { StreamgateError } from "../errors.js";
import { encodeDeliveryResponse } from "../events/encodeEvent.js";
import type { GroupMember } from "../groups/groupMember.js";
import type { RpcContext } from "./context.js";
import { startMember } from "./groupMembership.js";
import { toServiceError } from "./toServiceError.js";

type Call = ServerDuplexStream<ConsumeRequest__Output, unknown>;

/** Most delivery ids merged into one ack or nack call to Redis (also the most arguments any one command gets). */
const MAX_IDS_PER_CALL = 1000;
/** Most delivery ids one ack or nack message may carry: more than any member holds (STREAMGATE_GROUP_MAX_IN_FLIGHT). */
export const MAX_IDS_PER_MESSAGE = 100_000;
/**
 * Delivery ids waiting to be applied past which the call stops reading (HTTP/2 flow control then
 * holds the client back) until they are: a client cannot queue acks faster than Redis takes them.
 */
const MAX_QUEUED_IDS = 200_000;

/**
 * streamgate.v1.ConsumerGroups/Consume: the first message joins a group, later
 * ones ack or nack deliveries. Ends when the client half-closes or cancels.
 * The caller is authenticated from the call's metadata as soon as it opens
 * (UNAUTHENTICATED at once, without waiting for a message), and a call that
 * sends no join within STREAMGATE_GROUP_JOIN_TIMEOUT_MS ends with
 * INVALID_ARGUMENT, so an idle or unauthenticated call cannot stay open.
 */
export function consumeHandler(ctx: RpcContext) {
  return (call: Call): void => {
    const abort = new AbortController();
    const fail = (err: unknown) => {
      if (abort.signal.aborted) return;
      abort.abort();
      call.emit("error", toServiceError(err, ctx.log, call.metadata));
    };
    call.on("cancelled", () => abort.abort());
    call.on("error", () => abort.abort());
    // Started now, awaited by the join: a bad credential ends the call before any message arrives.
    const caller = Promise.resolve()
      .then(() => ctx.resolveCaller(call.metadata))
      .catch((err: unknown) => {
        fail(err);
        throw err;
      });
    caller.catch(() => {}); // reported through fail(); the join only needs the outcome
    const joinTimeoutMs = ctx.config.groupJoinTimeoutMs;
    const joinTimer = setTimeout(
      () =>
        fail(
          new StreamgateError(
            status.INVALID_ARGUMENT,
            `no join message within ${joinTimeoutMs} ms of opening Consume (STREAMGATE_GROUP_JOIN_TIMEOUT_MS): send join first`,
          ),
        ),
      joinTimeoutMs,
    );
    abort.signal.addEventListener("abort", () => clearTimeout(joinTimer), { once: true });
    let member: GroupMember | undefined;
    let joining = false;
    // Acks and nacks are applied in the order they arrive. While one batch is with Redis, the
    // ones that arrive meanwhile are merged (consecutive acks become one XACK), so a member
    // that acks every event costs a Redis round trip per batch, not per event.
    // Ids are copied in chunks of at most MAX_IDS_PER_CALL, never spread as arguments: a message of
    // 100,000 ids must not overflow the stack (it once crashed the process inside grpc-js's data listener).
    const ops: { kind: "ack" | "nack"; ids: string[]; error: string }[] = [];
    let queued = 0;
    let paused = false;
    let applying: Promise<void> | undefined;
    const apply = async (to: GroupMember) => {
      for (let op = ops.shift(); op; op = ops.shift()) {
        if (op.kind === "ack") await to.ack(op.ids);
        else await to.nack(op.ids, op.error);
        queued -= op.ids.length;
        if (paused && queued <= MAX_QUEUED_IDS / 2) {
          paused = false;
          call.resume();
        }
      }
    };
    const enqueue = (to: GroupMember, kind: "ack" | "nack", ids: readonly string[], error: string) => {
      if (ids.length === 0) return;
      if (ids.length > MAX_IDS_PER_MESSAGE) {
        return fail(
          new StreamgateError(
            status.INVALID_ARGUMENT,
            `one ${kind} carries ${ids.length} delivery ids; the limit is ${MAX_IDS_PER_MESSAGE}: send them in several messages`,
          ),
        );
      }
      for (const id of ids) {
        let last = ops[ops.length - 1];
        if (!last || last.kind !== kind || last.error !== error || last.ids.length >= MAX_IDS_PER_CALL) {
          last = { kind, ids: [], error };
          ops.push(last);
        }
        last.ids.push(id);
      }
      queued += ids.length;
      if (!paused && queued > MAX_QUEUED_IDS) {
        paused = true;
        call.pause();
      }
      // Cleared once the whole queue is applied, never before it was set (apply() may finish at once).
      applying ??= apply(to)
        .catch((err: unknown) => fail(err))
        .finally(() => {
          applying = undefined;
        });
    };
    const settled = async () => {
      while (applying) await applying;
    };

    call.on("data", (msg: ConsumeRequest__Output) => {
      if (!joining) {
        joining = true;
        clearTimeout(joinTimer);
        if (msg.kind !== "join" || !msg.join)
          return fail(new StreamgateError(status.INVALID_ARGUMENT, "the first Consume message must be join"));
        void join(msg.join).catch(fail);
        return;
      }
      if (msg.kind === "join") return fail(new StreamgateError(status.INVALID_ARGUMENT, "join may only be sent once per Consume stream"));
      const current = member;
      if (!current) return fail(new StreamgateError(status.FAILED_PRECONDITION, "ack or nack before the group was joined"));
      if (msg.kind === "ack") enqueue(current, "ack", msg.ack?.deliveryIds ?? [], "");
      if (msg.kind === "nack") enqueue(current, "nack", msg.nack?.deliveryIds ?? [], msg.nack?.error ?? "");
    });
    call.on("end", () => {
      // Client half-closed: apply the last acks, then stop delivering and end.
      void settled().then(() => {
        if (abort.signal.aborted) return;
        abort.abort();
        call.end();
      });
    });

    async function join(req: JoinGroup__Output): Promise<void> {
      const who = await caller;
      // Same start-position rules (and tier checks) as EventStream; a group has no cursor.
      const start = () =>
        startPosition(
          {
            routingKeyFilter: "",
            krefFilter: "",
            startPosition: req.startPosition,
            fromLatest: req.fromLatest,
            fromTimestamp: req.fromTimestamp,
            fromBeginning: req.fromBeginning,
          },
          who.tier,
        );
      const started = await startMember(ctx, who, {
        group: req.group,
        member: req.member,
        routingKeyFilter: req.routingKeyFilter,
        krefFilter: req.krefFilter,
        start,
        maxInFlight: req.maxInFlight,
        maxDeliveries: req.maxDeliveries,
        ackTimeoutMs: req.ackTimeoutMs,
        autoAck: false,
        deliver: (deliveries) =>
          call.write(
            encodeDeliveryResponse(
              deliveries.map((d) => ({ deliveryId: d.deliveryId, event: d.event.bytes(true), deliveryCount: d.deliveryCount })),
            ),
          ),
        drained: (signal) => once(call, "drain", { signal }).then(() => undefined),
        end: fail,
        signal: abort.signal,
      });
      member = started.member;
      if (!abort.signal.aborted) call.write({ joined: { member: started.name, created: started.created, ...started.settings } });
      await started.run(); // returns at once (releasing everything) if the client already left
    }
  };
}
