// The bench's events and subscriptions, defined once so that every system is fed
// the same events and every subscriber can check, independently of the system
// under test, exactly which events it should have received.

/** Routing keys cycle through these; half match `revision.*`. */
export const ROUTING_KEYS = ["revision.created", "revision.tagged", "item.model.created", "revision.metadata.updated"] as const;

export interface EventShape {
  seq: number;
  routingKey: string;
  project: string;
  kref: string;
}

/** Event `seq` of a run whose events are spread over `projects` projects. */
export function eventAt(seq: number, projects: number): EventShape {
  const project = `proj${seq % projects}`;
  const routingKey = ROUTING_KEYS[seq % ROUTING_KEYS.length] as string;
  const shot = String(seq % 100).padStart(3, "0");
  return { seq, routingKey, project, kref: `kref://${project}/shots/sh${shot}.model?r=${1 + (seq % 7)}` };
}

/** What one subscriber asks for. */
export interface SubSpec {
  /** Only events of this project (kref filter `kref://<project>/**`); undefined = every project. */
  project?: number;
  /** Also require routing key `revision.*` (exactly one more segment). */
  revisionOnly?: boolean;
}

export function routingKeyFilter(s: SubSpec): string {
  return s.revisionOnly ? "revision.*" : "";
}

export function krefFilter(s: SubSpec): string {
  return s.project === undefined ? "" : `kref://proj${s.project}/**`;
}

/** The same filter as a NATS subject over `ev.<project>.<routing key>`. */
export function natsSubject(s: SubSpec): string {
  const project = s.project === undefined ? "*" : `proj${s.project}`;
  return s.revisionOnly ? `ev.${project}.revision.*` : `ev.${project}.>`;
}

export function natsSubjectOf(e: EventShape): string {
  return `ev.${e.project}.${e.routingKey}`;
}

/** The expected-set predicate, written from the spec and not from any system's filter code. */
export function expects(s: SubSpec, seq: number, projects: number): boolean {
  if (s.project !== undefined && seq % projects !== s.project) return false;
  if (s.revisionOnly) {
    const rk = ROUTING_KEYS[seq % ROUTING_KEYS.length] as string;
    return rk === "revision.created" || rk === "revision.tagged";
  }
  return true;
}

/** How many of events [0, total) subscriber `s` should receive. */
export function expectedCount(s: SubSpec, total: number, projects: number): number {
  let n = 0;
  for (let i = 0; i < total; i++) if (expects(s, i, projects)) n++;
  return n;
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Details every bench event carries: its sequence number and send time. */
export function detailsOf(seq: number): Record<string, string> {
  return { seq: String(seq), t: nowMs().toFixed(3), author_note: "bench payload of a typical size" };
}
