/**
 * Freezes a table of option rows, the table and each row: validation and the README read the
 * tables live, so a caller who changed a row would change what every later check accepts.
 */
export function frozenTable<T extends Record<string, object>>(table: T): Readonly<T> {
  for (const row of Object.values(table)) Object.freeze(row);
  return Object.freeze(table);
}
