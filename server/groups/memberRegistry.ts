import { status } from "@grpc/grpc-js";
import { StreamgateError } from "../errors.js";

/** An open consumer-group membership (a Consume call or an EventStream with consumer_group). */
export interface OpenMember {
  /** The API key that opened it, if any. */
  owner: string | undefined;
  /** The tenant whose group it is (a tier change re-checks its tenant's members). */
  tenant: string;
  /** Cursor of the last event handed to the member ("" before the first). */
  lastCursor(): string;
  /** Ends the member's call with `err`. */
  end(err: StreamgateError): void;
}

/**
 * Open group members, so that revoking a key or shutting down ends them like
 * broadcast subscriptions (which the hub tracks).
 */
export class MemberRegistry {
  private readonly open = new Set<OpenMember>();
  private readonly byTenant = new Map<string, number>();
  private closed = false;

  /**
   * At most `limit` members at once in this process (each holds a Redis connection), and at most
   * `perTenant` of them for one tenant, so that one tenant cannot take the whole pool.
   */
  constructor(
    private readonly limit: number,
    private readonly perTenant: number = limit,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /** Registers a member; returns the function that unregisters it. */
  add(member: OpenMember): () => void {
    if (this.closed) throw new StreamgateError(status.UNAVAILABLE, "server is shutting down; join the group on another replica");
    // The tenant's own cap first: a tenant at its share is told so, whatever the rest of the pool holds.
    const mine = this.byTenant.get(member.tenant) ?? 0;
    if (mine >= this.perTenant) {
      throw new StreamgateError(
        status.RESOURCE_EXHAUSTED,
        `tenant ${member.tenant} already has ${mine} consumer-group members on this server, its limit (STREAMGATE_GROUP_MAX_MEMBERS_PER_TENANT)`,
      );
    }
    if (this.open.size >= this.limit) {
      throw new StreamgateError(
        status.RESOURCE_EXHAUSTED,
        `this server already serves ${this.open.size} consumer-group members, its limit (STREAMGATE_GROUP_MAX_MEMBERS)`,
      );
    }
    this.open.add(member);
    this.byTenant.set(member.tenant, mine + 1);
    let registered = true;
    return () => {
      if (!registered) return;
      registered = false;
      this.open.delete(member);
      const left = (this.byTenant.get(member.tenant) ?? 1) - 1;
      if (left > 0) this.byTenant.set(member.tenant, left);
      else this.byTenant.delete(member.tenant);
    };
  }

  closeOwnedBy(owner: string, errFor: (m: OpenMember) => StreamgateError): number {
    let n = 0;
    for (const m of [...this.open]) {
      if (m.owner !== owner) continue;
      m.end(errFor(m));
      n++;
    }
    return n;
  }

  owners(): Set<string> {
    const out = new Set<string>();
    for (const m of this.open) if (m.owner !== undefined) out.add(m.owner);
    return out;
  }

  /** Every open member, as a copy (ending one while iterating is safe). */
  list(): OpenMember[] {
    return [...this.open];
  }

  closeAll(errFor: (m: OpenMember) => StreamgateError): void {
    this.closed = true;
    for (const m of [...this.open]) m.end(errFor(m));
  }
}
