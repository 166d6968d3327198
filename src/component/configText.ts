// How configuration text converts: any value to the text a ConfigParams keeps, and that text back
// to a number or a boolean. One home for the words and rules every reader shares.

/** Converts any value to the string stored in the map; `null`/`undefined` stay `null`. */
export function configValueToString(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => configValueToString(v) ?? '').join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Parses a number the way the lenient readers do; `null` when the text is not a number. */
export function toNullableNumber(text: string | null): number | null {
  if (text === null) return null;
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : null;
}

const TRUE_WORDS = new Set(['true', 't', '1', 'yes', 'y', 'on']);
const FALSE_WORDS = new Set(['false', 'f', '0', 'no', 'n', 'off']);

/** Boolean words accepted by every boolean reader in this package (case-insensitive). */
export function parseBooleanText(text: string | null): boolean | null {
  if (text === null) return null;
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return null;
}
