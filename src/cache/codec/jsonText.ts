import { InvalidValueError } from '../../component/errors.js';

/**
 * `JSON.stringify(value)`, or InvalidValueError naming the key when JSON cannot encode it. The
 * one home of that rule for the codec and the in-memory caches. The error says why in our own
 * words and carries no cause: the engine's message names properties of the value ("circular
 * structure … property 'password'"), and a throwing `toJSON` or getter may put anything in its
 * message — values never travel in errors.
 */
export function jsonText(value: unknown, key?: string, traceId?: string | null): string | undefined {
  try {
    return JSON.stringify(value);
  } catch (error) {
    const where = key === undefined ? 'value' : `value for key '${key}'`;
    throw new InvalidValueError(`${where} cannot be encoded as JSON: ${failureReason(error)}`, {
      traceId: traceId ?? null,
      ...(key === undefined ? {} : { key }),
    });
  }
}

function failureReason(error: unknown): string {
  // Engine errors are recognised by class and wording; anything else came from the value's code.
  const message = error instanceof Error ? error.message : '';
  if (error instanceof TypeError && /BigInt/.test(message)) return 'it contains a BigInt';
  if (error instanceof TypeError && /circular/i.test(message)) return 'it contains a circular reference';
  if (error instanceof RangeError) return 'it is nested too deeply or too large';
  return 'a toJSON() method or getter of it threw';
}
