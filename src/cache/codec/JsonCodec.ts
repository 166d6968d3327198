import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ProtocolError } from '../../component/errors.js';
import { jsonText } from './jsonText.js';
import { type EncodedValue, type ValueCodec, ValueFlags } from './ValueCodec.js';

export interface JsonCodecOptions {
  /** Values whose encoding is at least this many bytes are deflate-compressed; 0 disables. */
  compressionThreshold?: number;
}

/**
 * The default codec. Everything but bytes is JSON text with flags 0, exactly what pip-services4
 * writes, so JSON semantics apply: a Date reads back as its ISO string, `undefined` and
 * functions as `null`. Bytes keep their own flag and come back as a Buffer.
 */
export class JsonCodec implements ValueCodec {
  private readonly compressionThreshold: number;

  constructor(options: JsonCodecOptions = {}) {
    this.compressionThreshold = options.compressionThreshold ?? 0;
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
    let bytes = data;
    if ((flags & ValueFlags.Compressed) !== 0) {
      try {
        bytes = inflateRawSync(data);
      } catch (error) {
        throw new ProtocolError('A value flagged as compressed could not be decompressed', {
          key,
          cause: error,
        });
      }
    }
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
