/**
 * What a server sent, for an error message: the one home of how both parsers (meta and text)
 * quote a malformed reply. Printable ASCII is kept, `"` and `\` are escaped, CR, LF and tab show
 * as \r \n \t and any other byte as \xNN, so an operator sees exactly which bytes arrived (a
 * stray CR, a NUL) without the terminal interpreting them. At most `max` bytes are shown, then
 * "…": a line may be 8 KB of garbage, and a value's bytes must not end up in logs whole.
 */
export const QUOTE_MAX_BYTES = 80;

/** `bytes` as a double-quoted, escaped string. A string is read as latin1 (one byte per char). */
export function quoteBytes(bytes: Uint8Array | string, max = QUOTE_MAX_BYTES): string {
  const length = bytes.length;
  const shown = Math.min(length, max);
  let out = '"';
  for (let i = 0; i < shown; i++) {
    const byte = typeof bytes === 'string' ? bytes.charCodeAt(i) & 0xff : bytes[i]!;
    out += escapeByte(byte);
  }
  return `${out}"${length > max ? '…' : ''}`;
}

function escapeByte(byte: number): string {
  switch (byte) {
    case 0x0d:
      return '\\r';
    case 0x0a:
      return '\\n';
    case 0x09:
      return '\\t';
    case 0x22:
      return '\\"';
    case 0x5c:
      return '\\\\';
  }
  if (byte >= 0x20 && byte < 0x7f) return String.fromCharCode(byte);
  return `\\x${byte.toString(16).padStart(2, '0')}`;
}

/**
 * The reason for a data block without its CRLF. Only the bytes where the CRLF was due are quoted:
 * the value itself is never shown.
 */
export function notFollowedByCrlf(received: Uint8Array): string {
  return `a value is not followed by CRLF: ${quoteBytes(received)} where CRLF was due`;
}
