// The feed's index of distinct filters. Each filter is filed under the literal
// segments its kref pattern starts with (else its routing-key pattern's), in a
// trie; an event walks the trie along its own segments and is matched only
// against the filters found on the way, plus the few with no literal prefix.
// With 10,000 subscriptions to distinct projects, an event meets one filter,
// not 10,000.
import type { EventFilter, Matchable } from "../filters/eventFilter.js";

// Both containers are created on first use: with 10,000 distinct filters most
// nodes are leaves holding one filter, and an empty Map or Set still costs memory.
interface Node<T> {
  children: Map<string, Node<T>> | undefined;
  items: Set<T> | undefined;
}

const node = <T>(): Node<T> => ({ children: undefined, items: undefined });

class PrefixTrie<T> {
  private readonly root: Node<T> = node();

  add(prefix: readonly string[], item: T): void {
    let at = this.root;
    for (const seg of prefix) {
      at.children ??= new Map();
      let next = at.children.get(seg);
      if (!next) {
        next = node();
        at.children.set(seg, next);
      }
      at = next;
    }
    at.items ??= new Set();
    at.items.add(item);
  }

  delete(prefix: readonly string[], item: T): void {
    const path: Node<T>[] = [this.root];
    for (const seg of prefix) {
      const next = path[path.length - 1]?.children?.get(seg);
      if (!next) return;
      path.push(next);
    }
    const last = path[path.length - 1] as Node<T>;
    last.items?.delete(item);
    if (last.items?.size === 0) last.items = undefined;
    // Prune nodes left empty, leaf first.
    for (let i = prefix.length; i > 0; i--) {
      const n = path[i] as Node<T>;
      if (n.items || n.children) break;
      const parent = path[i - 1] as Node<T>;
      parent.children?.delete(prefix[i - 1] as string);
      if (parent.children?.size === 0) parent.children = undefined;
    }
  }

  /** Appends the items filed under every prefix of `segments` (root included) to `out`. */
  collect(segments: readonly string[], out: T[]): void {
    let at: Node<T> | undefined = this.root;
    for (let i = 0; ; i++) {
      if (at.items) for (const item of at.items) out.push(item);
      if (i === segments.length || !at.children) return;
      at = at.children.get(segments[i] as string);
      if (!at) return;
    }
  }
}

/** Anything filed by a filter (the feed files its filter groups). */
export interface Indexed {
  filter: EventFilter;
}

export class FilterIndex<T extends Indexed> {
  private readonly kref = new PrefixTrie<T>();
  private readonly routingKey = new PrefixTrie<T>();
  private readonly rest = new Set<T>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(item: T): void {
    const at = item.filter.index;
    if (!at) this.rest.add(item);
    else (at.by === "kref" ? this.kref : this.routingKey).add(at.prefix, item);
    this.count++;
  }

  delete(item: T): void {
    const at = item.filter.index;
    if (!at) this.rest.delete(item);
    else (at.by === "kref" ? this.kref : this.routingKey).delete(at.prefix, item);
    this.count--;
  }

  /** Appends to `out` every item whose filter could match `ev` (each at most once: an item is filed in one place). */
  candidates(ev: Matchable, out: T[]): void {
    this.kref.collect(ev.krefSegments, out);
    this.routingKey.collect(ev.segments, out);
    for (const item of this.rest) out.push(item);
  }
}
