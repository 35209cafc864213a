import type { StreamgateError } from "../errors.js";

/** An open consumer-group membership (a Consume call or an EventStream with consumer_group). */
export interface OpenMember {
  /** The API key that opened it, if any. */
  owner: string | undefined;
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

  get size(): number {
    return this.open.size;
  }

  /** Registers a member; returns the function that unregisters it. */
  add(member: OpenMember): () => void {
    this.open.add(member);
    return () => this.open.delete(member);
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

  closeAll(errFor: (m: OpenMember) => StreamgateError): void {
    for (const m of [...this.open]) m.end(errFor(m));
  }
}
