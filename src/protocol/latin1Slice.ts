/** `Buffer#latin1Slice`: on every Buffer since Node 0.x, left out of its type declarations. */
interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}

/**
 * The bytes `[start, end)` of `buf` as a latin1 string (one char per byte): what
 * `buf.toString('latin1', start, end)` ends in, without its argument and encoding checks (~60
 * instructions a call, callgrind).
 */
export function latin1Slice(buf: Uint8Array, start: number, end: number): string {
  return (buf as unknown as Latin1Slicer).latin1Slice(start, end);
}
