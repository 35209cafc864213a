// Strict ISO-8601 times for from_timestamp: Date.parse is lenient (it reads
// "2026-02-30" as 2 March and "T24:00:00" as the next midnight), so a mistyped
// date would silently replay from somewhere else. Every field is checked
// against the calendar first.

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|([+-])(\d{2}):?(\d{2}))?)?$/;

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Milliseconds since the epoch of an ISO-8601 date or date-time (UTC when it names no zone),
 * or a reason it is not one: the form, or a field out of range for the calendar.
 */
export function parseIsoTime(text: string): number | string {
  const m = ISO.exec(text);
  if (!m) return "is not an ISO-8601 time such as 2026-01-31T12:00:00Z";
  const field = (i: number) => Number(m[i] ?? 0);
  const [year, month, day, hour, minute, second] = [field(1), field(2), field(3), field(4), field(5), field(6)];
  const fraction = m[7] ? Number(`0${m[7]}`) : 0;
  if (year < 1970) return "is before 1970-01-01T00:00:00Z";
  if (month < 1 || month > 12) return `has month ${month}; months are 01-12`;
  if (day < 1 || day > daysIn(year, month)) return `has day ${day}; ${m[1]}-${m[2]} has ${daysIn(year, month)} days`;
  if (hour > 23 || minute > 59 || second > 59) return "has a time of day out of range (00:00:00-23:59:59)";
  let offsetMin = 0;
  if (m[9]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return "has a zone offset out of range";
    offsetMin = (m[9] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  const ms = Date.UTC(year, month - 1, day, hour, minute, second) + Math.floor(fraction * 1000) - offsetMin * 60_000;
  if (!Number.isFinite(ms) || ms < 0) return "is before 1970-01-01T00:00:00Z";
  return ms;
}
