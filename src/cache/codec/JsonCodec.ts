// Imported: the global `Buffer` is an accessor on globalThis, a getter call on every use.
import { Buffer } from 'node:buffer';
import { deflateRawSync } from 'node:zlib';
import { CLIENT_OPTIONS } from '../../client/ClientOptions.js';
import { inflateBounded, inflateBoundedLater, inflatesLater } from './boundedInflate.js';
import { jsonText } from './jsonText.js';
import { type EncodedValue, type ValueCodec, ValueFlags } from './ValueCodec.js';

export interface JsonCodecOptions {
  /** Values whose encoding is at least this many bytes are deflate-compressed; 0 disables. */
  compressionThreshold?: number;
  /**
   * Largest value a compressed value may inflate to (`max_value`, default the client's); more
   * → ValueTooLargeError naming the key, and inflating stops there.
   */
  maxValueBytes?: number;
}

/**
 * The default codec. Everything but bytes is JSON text with flags 0, exactly what pip-services4
 * writes, so JSON semantics apply: a Date reads back as its ISO string, `undefined` and
 * functions as `null`. Bytes keep their own flag and come back as a Buffer.
 */
export class JsonCodec implements ValueCodec {
  private readonly compressionThreshold: number;
  private readonly maxValueBytes: number;

  constructor(options: JsonCodecOptions = {}) {
    this.compressionThreshold = options.compressionThreshold ?? 0;
    this.maxValueBytes = options.maxValueBytes ?? CLIENT_OPTIONS.maxValueSize.default;
  }

  encode(value: unknown, key: string): EncodedValue {
    let data: Buffer;
    let flags: number;
    if (Buffer.isBuffer(value)) {
      data = value;
      flags = ValueFlags.Bytes;
    } else if (value instanceof Uint8Array) {
      data = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      flags = ValueFlags.Bytes;
    } else {
      data = Buffer.from(toJson(value, key), 'utf8');
      flags = ValueFlags.Json;
    }
    if (this.compressionThreshold > 0 && data.length >= this.compressionThreshold) {
      const compressed = deflateRawSync(data);
      // Incompressible data stays as it is: readers without our flag can still use it.
      if (compressed.length < data.length) return { data: compressed, flags: flags | ValueFlags.Compressed };
    }
    return { data, flags };
  }

  decode(data: Buffer, flags: number, key: string): unknown {
    const compressed = (flags & ValueFlags.Compressed) !== 0;
    return this.fromBytes(compressed ? inflateBounded(data, this.maxValueBytes, key) : data, flags);
  }

  /** Compressed values that may inflate past 1 MiB (SYNC_INFLATE_BYTES) inflate off the loop. */
  decodeLater(data: Buffer, flags: number, key: string): Promise<unknown> | null {
    if ((flags & ValueFlags.Compressed) === 0 || !inflatesLater(data, this.maxValueBytes)) return null;
    return inflateBoundedLater(data, this.maxValueBytes, key).then((bytes) => this.fromBytes(bytes, flags));
  }

  private fromBytes(bytes: Buffer, flags: number): unknown {
    switch (flags & ~ValueFlags.Compressed) {
      case ValueFlags.Bytes:
        return bytes;
      case ValueFlags.NpmNumeric:
        return Number(bytes.toString('utf8'));
      default:
        return parseJsonOrText(bytes.toString('utf8'));
    }
  }
}

function toJson(value: unknown, key: string): string {
  // JSON.stringify(undefined | function | symbol) is undefined: JSON semantics make it null.
  return jsonText(value, key) ?? 'null';
}

function parseJsonOrText(text: string): unknown {
  const first = text.charCodeAt(0);
  // Cheap pre-check: JSON text starts with one of these; anything else is a plain string.
  const maybeJson =
    first === 0x22 /* " */ ||
    first === 0x7b /* { */ ||
    first === 0x5b /* [ */ ||
    first === 0x2d /* - */ ||
    (first >= 0x30 && first <= 0x39) ||
    text === 'true' ||
    text === 'false' ||
    text === 'null';
  if (!maybeJson) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
