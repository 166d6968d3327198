import { inflateRaw, inflateRawSync } from 'node:zlib';
import { CorruptValueError, ValueTooLargeError } from '../../component/errors.js';

/**
 * Deflate's best ratio is about 1032:1, so `n` compressed bytes can never inflate to more than
 * this many times `n`: what lets a small input be inflated at once, whatever its content.
 */
const DEFLATE_MAX_RATIO = 1032;

/**
 * Largest output inflated on the event loop. Measured on a 2-core VM: 1 MiB inflates in 1.4 ms
 * (zeros) to 6.7 ms (incompressible text), about what JSON.parse of the same megabyte costs; a
 * megabyte more would block the loop for longer than any single reply should. Larger bounds go
 * to libuv's thread pool (~0.2 ms more per value).
 */
const SYNC_INFLATE_BYTES = 1024 * 1024;

/** Whether inflating `compressed` up to `limit` bytes could take longer than we block the loop for. */
export function inflatesLater(compressed: Buffer, limit: number): boolean {
  return Math.min(limit, compressed.length * DEFLATE_MAX_RATIO) > SYNC_INFLATE_BYTES;
}

/**
 * Inflates a value read under `key`, at most `limit` bytes (`max_value`): zlib stops as soon as
 * the output would pass it, so a small "compression bomb" costs at most `limit` bytes and the
 * time to produce them, never its full size.
 */
export function inflateBounded(compressed: Buffer, limit: number, key: string): Buffer {
  try {
    return inflateRawSync(compressed, { maxOutputLength: limit });
  } catch (error) {
    throw inflateError(error, compressed, limit, key);
  }
}

/**
 * Output chunk of the thread-pool inflate. Each chunk is a trip back to the event loop and a
 * buffer to collect: zlib's 16 KB default makes 4,096 of them for 64 MiB. Measured under load,
 * two 64 MiB-bounded bombs at once: worst loop gap 11–34 ms with 1 MiB chunks, 18–132 ms with
 * 16 KB ones.
 */
const LATER_CHUNK_BYTES = 1024 * 1024;

/** `inflateBounded` on libuv's thread pool: the event loop is not blocked while it runs. */
export function inflateBoundedLater(compressed: Buffer, limit: number, key: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    inflateRaw(compressed, { maxOutputLength: limit, chunkSize: LATER_CHUNK_BYTES }, (error, bytes) => {
      if (error) reject(inflateError(error, compressed, limit, key));
      else resolve(bytes);
    });
  });
}

function inflateError(error: unknown, compressed: Buffer, limit: number, key: string): Error {
  const code = (error as { code?: unknown }).code;
  // zlib aborts with ERR_BUFFER_TOO_LARGE when the output would pass maxOutputLength.
  if (code === 'ERR_BUFFER_TOO_LARGE') {
    return new ValueTooLargeError(
      `The value stored under key '${key}' (${compressed.length} bytes compressed) inflates to more than ${limit} bytes (max_value); it was not read`,
      { key },
    );
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new CorruptValueError(
    `The value stored under key '${key}' is flagged as compressed but is not valid deflate data (${reason})`,
    { key, details: { zlibCode: typeof code === 'string' || typeof code === 'number' ? code : null } },
  );
}
