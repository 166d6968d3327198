// The end of a meta request line, ` O<opaque>\r\n`, built without converting the opaque with
// V8's number-to-string.
//
// V8 caches those conversions in a heap-wide table, and every string stored there stays alive
// until the next full GC. An opaque is a new number on every request, so converting it missed
// the cache each time, stored the new string in it (a write barrier) and kept it alive: each
// scavenge copied thousands of dead opaque strings and promoted them to the old generation, whose
// growth brought major GCs. Callgrind, 100 requests in flight: 9,630 → 8,279 instructions per
// get, 9,511 → 8,182 per set, and the major GCs in the measured window gone.
//
// Opaques are handed out in order (see `reserveOpaques`): their thousands change once per
// thousand requests, and are converted then; the last three digits and the CRLF come from a
// table. (A CAS read from a reply is converted with `${}`: a table and recursion measured ~250
// instructions more per get, even over 50,000 distinct items.)

const CRLF = '\r\n';

/** `000\r\n` … `999\r\n`. */
const LAST_THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(3, '0')}${CRLF}`);

let thousands = 0;
let opaqueHead = ' O0';

/**
 * ` O<opaque>\r\n`: the last flag of a meta request line, with the space before it (one string
 * join less per request), and the line's end. `opaque`: an integer ≥ 0.
 */
export function opaqueLineEnd(opaque: number): string {
  if (opaque < 1000) return ` O${opaque}${CRLF}`;
  const high = Math.floor(opaque / 1000);
  if (high !== thousands) {
    thousands = high;
    opaqueHead = ` O${high}`;
  }
  return opaqueHead + LAST_THREE_DIGITS[opaque - high * 1000]!;
}
