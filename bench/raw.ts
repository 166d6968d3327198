// The raw bound: one Node socket, requests prebuilt in batches of 100 written with one write, the
// next batch sent when every reply of the previous one arrived (so 100 in flight). Replies are
// counted with the least parsing that stays correct (header lines, `VA <n>` data blocks skipped).
// No client can beat this on one connection; it shows what the socket and the server allow.
//
// Two request sets: the plain bound's (`mg <key> v`, `ms <key> <n> T0`: the least a get or set can
// ask) and our client's (`metaGetBatches`, `metaSetBatches`, `quietGetBatches`): the bytes
// `src/protocol/RequestEncoder.ts` writes for get, set and getMany, opaque tokens included, so the
// server does for this bound what it does for ours and what is left between the two is the client.

import { connect, type Socket } from 'node:net';

const LF = 10;
/** The first two bytes of a reply line, as one number. */
const HD = (72 << 8) | 68;
const EN = (69 << 8) | 78;

/** A bound's one socket: connected, Nagle off, its reads and errors handed to the bound. */
export async function boundSocket(
  host: string,
  port: number,
  onData: (chunk: Buffer) => void,
  onError: (error: Error) => void,
): Promise<Socket> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const connecting = connect({ host, port }, () => resolve(connecting));
    connecting.once('error', reject);
  });
  socket.setNoDelay(true);
  socket.on('data', onData);
  socket.on('error', onError);
  return socket;
}

export class RawBound {
  private socket!: Socket;
  private carry: Buffer | null = null;
  /** Data bytes (+CRLF) of a VA reply still to skip. */
  private skip = 0;
  /** Replies that end the batch; QUIET: the batch ends at `MN` instead. */
  private expected = 0;
  private received = 0;
  private hits = 0;
  private done: (() => void) | null = null;
  private failed: ((error: Error) => void) | null = null;

  async connect(host: string, port: number): Promise<void> {
    this.socket = await boundSocket(
      host,
      port,
      (chunk) => this.onData(chunk),
      (error) => this.failed?.(error),
    );
  }

  close(): void {
    this.socket.destroy();
  }

  /** Hits (VA replies) seen so far. */
  get hitCount(): number {
    return this.hits;
  }

  /**
   * Writes one batch and resolves when all `replies` replies arrived, or with `QUIET` when its
   * `MN` arrived (a batch of quiet requests ended by `mn`: hits answer, misses do not).
   */
  send(batch: Buffer, replies: number): Promise<void> {
    this.expected = replies;
    this.received = 0;
    return new Promise<void>((resolve, reject) => {
      this.done = resolve;
      this.failed = reject;
      this.socket.write(batch);
    });
  }

  private onData(chunk: Buffer): void {
    let buf = chunk;
    let pos = 0;
    if (this.skip > 0) {
      const n = Math.min(this.skip, buf.length);
      this.skip -= n;
      pos = n;
      if (this.skip > 0) return;
      this.reply();
    } else if (this.carry !== null) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    const len = buf.length;
    while (pos < len) {
      const lf = buf.indexOf(LF, pos);
      if (lf === -1) {
        this.carry = Buffer.from(buf.subarray(pos));
        return;
      }
      // "VA <size> ..." — skip the data block.
      if (buf[pos] === 86 && buf[pos + 1] === 65) {
        let size = 0;
        for (let p = pos + 3; p < lf; p++) {
          const d = buf[p]! - 48;
          if (d < 0 || d > 9) break;
          size = size * 10 + d;
        }
        this.hits++;
        const available = len - (lf + 1);
        if (available < size + 2) {
          this.skip = size + 2 - available;
          return;
        }
        pos = lf + 1 + size + 2;
      } else {
        const start = pos;
        pos = lf + 1;
        if (buf[start] === 77 && buf[start + 1] === 78 && lf - start <= 3) {
          // MN: the end of a quiet batch, not a reply of its own.
          if (this.expected === QUIET) this.finish();
          continue;
        }
        const code = (buf[start]! << 8) | buf[start + 1]!;
        if (code !== HD && code !== EN) {
          // Not HD / EN: an error line (`ERROR` too). A bound that got errors is not a bound.
          this.failed?.(new Error(`raw bound: unexpected reply ${buf.toString('latin1', start, lf)}`));
        }
      }
      this.reply();
    }
  }

  private reply(): void {
    if (++this.received === this.expected) this.finish();
  }

  private finish(): void {
    const done = this.done;
    this.done = null;
    done?.();
  }
}

/** `send`'s reply count for a quiet batch ended by `mn`: it is done when `MN` arrives. */
export const QUIET = -1;

/** Prebuilt batches of one request line per key (`line`), batch b holding keys [b*size, (b+1)*size), then `end`. */
function lineBatches(
  keys: readonly string[],
  size: number,
  line: (key: string) => string,
  end = '',
): Buffer[] {
  const batches: Buffer[] = [];
  for (let start = 0; start + size <= keys.length; start += size) {
    let text = '';
    for (let i = start; i < start + size; i++) text += line(keys[i]!);
    batches.push(Buffer.from(text + end, 'latin1'));
  }
  return batches;
}

/**
 * Prebuilt `ms` batches: `header(key)`, the value and CRLF per key; at most `maxBatches` distinct
 * ones (a set's bytes do not depend on what the server holds, so they are sent again in turn).
 */
function setLineBatches(
  keys: readonly string[],
  size: number,
  value: Buffer,
  maxBatches: number,
  header: (key: string) => string,
): Buffer[] {
  const batches: Buffer[] = [];
  const crlf = Buffer.from('\r\n');
  for (let start = 0; start + size <= keys.length && batches.length < maxBatches; start += size) {
    const parts: Buffer[] = [];
    for (let i = start; i < start + size; i++)
      parts.push(Buffer.from(header(keys[i]!), 'latin1'), value, crlf);
    batches.push(Buffer.concat(parts));
  }
  return batches;
}

/** Prebuilt `mg <key> v` batches: batch b holds keys [b*size, (b+1)*size). */
export function getBatches(keys: readonly string[], size: number): Buffer[] {
  return lineBatches(keys, size, (key) => `mg ${key} v\r\n`);
}

/** Prebuilt `ms <key> <n> T0` batches with the value; at most `maxBatches` distinct ones. */
export function setBatches(
  keys: readonly string[],
  size: number,
  value: Buffer,
  maxBatches: number,
): Buffer[] {
  return setLineBatches(keys, size, value, maxBatches, (key) => `ms ${key} ${value.length} T0\r\n`);
}

/**
 * Opaque tokens as our client hands them out (`reserveOpaques` in src/transport/Request.ts):
 * one counter per process, from 1, consecutive within a batch. Prebuilt, they are those of a
 * fresh client's first requests: at most a digit or two shorter than ours' later in a run.
 */
export class Opaques {
  private last = 0;

  next(): number {
    return ++this.last;
  }
}

/** Our client's get: `mg <key> v f c O<opaque>` (ITEM_FLAGS), batch b holding keys [b*size, (b+1)*size). */
export function metaGetBatches(keys: readonly string[], size: number, opaques: Opaques): Buffer[] {
  return lineBatches(keys, size, (key) => `mg ${key} v f c O${opaques.next()}\r\n`);
}

/**
 * Our client's getMany on one server: `mg <key> v f c q O<opaque>` per key (BATCH_FLAGS in
 * src/client/commands/ReadCommands.ts), then `mn`. Sent with `QUIET`: hits answer `VA`, misses
 * nothing, `MN` ends the batch.
 */
export function quietGetBatches(keys: readonly string[], size: number, opaques: Opaques): Buffer[] {
  return lineBatches(keys, size, (key) => `mg ${key} v f c q O${opaques.next()}\r\n`, 'mn\r\n');
}

/**
 * Our client's set of a Buffer with no TTL or flags given: `ms <key> <n> O<opaque>`
 * (metaSetHeader: a TTL and flags of 0 are not sent), the value and CRLF; at most `maxBatches`
 * distinct batches.
 */
export function metaSetBatches(
  keys: readonly string[],
  size: number,
  value: Buffer,
  maxBatches: number,
  opaques: Opaques,
): Buffer[] {
  return setLineBatches(
    keys,
    size,
    value,
    maxBatches,
    (key) => `ms ${key} ${value.length} O${opaques.next()}\r\n`,
  );
}
