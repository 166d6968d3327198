// The promise bound: the least a client with a promise per call can do on one socket. Each call
// builds its request line (`mg <key> v O<n>`, `ms <key> <n> T0 O<n>`), gets a promise, and is
// written with the other calls of its tick (a lone call at once); each reply is matched to its
// call by its opaque token and a hit's value is copied out of the read buffer. Nothing else: no
// key checks, routing, deadlines, retries, flags or CAS, no reconnect, no Item object.
//
// It is a bound, not a client: it shows what any client with this API's shape (one promise per
// call, replies verified) pays above the raw bound, which writes prebuilt batches and only
// counts replies. Ours ÷ this bound is the share of a call's cost the rest of our contract adds.

import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { boundSocket } from './raw.js';

const LF = 10;
// A space is the literal 32 in the reply loop, as in src/protocol/MetaReplyLine.ts (a module
// constant is a context load per byte in optimized code).

/** `Buffer#latin1Slice`: on every Buffer, left out of its type declarations. */
interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}

type Settle = (value: Buffer | boolean | null) => void;

let captured: Settle;
/** The executor of every call's promise: no closure per call (ours does the same). */
function capture(resolve: Settle): void {
  captured = resolve;
}

export class PromiseBound {
  private socket!: Socket;
  private lastOpaque = 0;
  /** Calls in flight, oldest first: their opaques and resolvers, from `head` on. */
  private opaques: number[] = [];
  private resolvers: Settle[] = [];
  private head = 0;
  /** Request lines of this tick, not written yet. */
  private pending = '';
  private flushScheduled = false;
  private readonly flush = (): void => {
    this.flushScheduled = false;
    this.socket.write(this.pending, 'latin1');
    this.pending = '';
  };
  private carry: Buffer | null = null;
  private chunkMemory: ArrayBuffer | null = null;
  private chunkOffset = 0;
  private chunkOf: Buffer | null = null;
  private failure: Error | null = null;

  async connect(host: string, port: number): Promise<void> {
    this.socket = await boundSocket(
      host,
      port,
      (chunk) => this.onData(chunk),
      (error) => this.fail(error),
    );
  }

  close(): void {
    this.socket.destroy();
  }

  /** The value, or null for a miss. */
  get(key: string): Promise<Buffer | null> {
    const opaque = this.nextOpaque();
    return this.call(`mg ${key} v O${opaque}\r\n`, opaque) as Promise<Buffer | null>;
  }

  /**
   * Stored or not. The value goes into the request string as latin1 text (one copy), as a small
   * value does in ours; the bench's values here are 100 B.
   */
  set(key: string, value: Buffer): Promise<boolean> {
    const opaque = this.nextOpaque();
    const line = `ms ${key} ${value.length} T0 O${opaque}\r\n${(value as unknown as Latin1Slicer).latin1Slice(0, value.length)}\r\n`;
    return this.call(line, opaque) as Promise<boolean>;
  }

  /**
   * Opaques cycle through 1–1000 (far more than are ever in flight): a number seen before is
   * turned into text from V8's number-string cache. A new number per call would miss that cache
   * and keep each string alive in it, the cost ours avoids with a table (src/protocol/opaqueLineEnd.ts).
   */
  private nextOpaque(): number {
    this.lastOpaque = this.lastOpaque === 1000 ? 1 : this.lastOpaque + 1;
    return this.lastOpaque;
  }

  private call(line: string, opaque: number): Promise<Buffer | boolean | null> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const promise = new Promise<Buffer | boolean | null>(capture);
    const alone = this.head === this.opaques.length;
    this.opaques.push(opaque);
    this.resolvers.push(captured);
    if (alone && !this.flushScheduled) {
      this.socket.write(line, 'latin1');
      return promise;
    }
    this.pending += line;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flush);
    }
    return promise;
  }

  private onData(chunk: Buffer): void {
    let buf = chunk;
    if (this.carry !== null) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    const len = buf.length;
    let pos = 0;
    while (pos < len) {
      const lf = buf.indexOf(LF, pos);
      if (lf === -1) break;
      const a = buf[pos]!;
      const b = buf[pos + 1]!;
      let p = pos + 3;
      let size = -1;
      if (a === 86 && b === 65) {
        // VA <size> O<n>
        size = 0;
        for (; buf[p] !== 32 && p < lf - 1; p++) size = size * 10 + buf[p]! - 48;
        if (lf + 1 + size + 2 > len) break; // the value is not all here yet
        p++;
      }
      let opaque = 0;
      if (buf[p] === 79) for (p++; p < lf - 1; p++) opaque = opaque * 10 + buf[p]! - 48;
      const head = this.head;
      if (head === this.opaques.length || this.opaques[head] !== opaque) {
        this.fail(new Error(`promise bound: reply ${buf.toString('latin1', pos, lf)} out of step`));
        return;
      }
      const resolve = this.resolvers[head]!;
      this.head = head + 1;
      if (size >= 0) {
        const start = lf + 1;
        const value = Buffer.allocUnsafe(size);
        // A Uint8Array over just the value's bytes, as ours copies it (no `subarray`: its species
        // lookup costs ~300 instructions).
        if (this.chunkOf !== buf) {
          this.chunkMemory = buf.buffer as ArrayBuffer;
          this.chunkOffset = buf.byteOffset;
          this.chunkOf = buf;
        }
        value.set(new Uint8Array(this.chunkMemory!, this.chunkOffset + start, size));
        pos = start + size + 2;
        resolve(value);
      } else {
        pos = lf + 1;
        resolve(a === 72 ? true : a === 69 ? null : false); // HD, EN, else not stored
      }
    }
    if (pos < len) this.carry = Buffer.from(buf.subarray(pos, len));
    // Drop the settled calls' slots once they are most of the queue.
    if (this.head > 1024 && this.head * 2 > this.opaques.length) {
      this.opaques.splice(0, this.head);
      this.resolvers.splice(0, this.head);
      this.head = 0;
    }
  }

  private fail(error: Error): void {
    this.failure = error;
    this.socket.destroy();
    for (let i = this.head; i < this.resolvers.length; i++) this.resolvers[i]!(null);
    this.head = this.resolvers.length;
  }
}
