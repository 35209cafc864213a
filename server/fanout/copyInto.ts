// Byte copies on the fan-out's encode path: by hand for short runs, where the
// native Buffer.copy costs more than it saves.

/** Copies src[start, end) into `dst` at `pos`; returns the position after it. */
export function copyRange(dst: Buffer, pos: number, src: Buffer, start: number, end: number): number {
  if (end - start > 32) return pos + src.copy(dst, pos, start, end);
  for (let i = start; i < end; i++) dst[pos++] = src[i] as number;
  return pos;
}

/** Copies all of `src` into `dst` at `pos`; returns the position after it. */
export function copyInto(dst: Buffer, pos: number, src: Buffer): number {
  return copyRange(dst, pos, src, 0, src.length);
}
