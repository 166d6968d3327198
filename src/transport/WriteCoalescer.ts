// Imported: the global `Buffer` is an accessor on globalThis, a getter call on every use.
import { Buffer } from 'node:buffer';
import type net from 'node:net';
import { setImmediate } from 'node:timers';
import { latin1Slice } from '../protocol/latin1Slice.js';
import { atEndOfTick } from './Clock.js';

/**
 * Values up to this size are folded into the pending write string; larger ones are handed to the
 * socket as they are (writev), never copied in user space. Copying values up to 8 KB into one
 * flush buffer instead measured no better at 1–1.5 KB and worse at 4 KB (main-thread CPU per set
 * 6.6 vs 5.4 µs), and copied a string value a second time after its UTF-8 encoding.
 */
const INLINE_VALUE_BYTES = 512;

/**
 * Once this much is queued in one tick it is written at once instead of at the end of the tick:
 * during a long synchronous burst of calls the server then works in parallel with our loop
 * (measured: 16,384 gets issued amid 150,000 calls finished ~200 ms sooner), and the string
 * being built stays small.
 */
const EAGER_FLUSH_BYTES = 64 * 1024;
/**
 * Longest requests are held for the loop's reads (see `untilPollEnds`): the pipeline counts a
 * request's wait from when it was handed here, so a hold must stay short against any
 * `request_timeout`, even when each read's callbacks are slow (a burst settling thousands of
 * calls per read held them for seconds: timeouts blamed the server for our own wait).
 */
const MAX_HOLD_MS = 2;

/**
 * Collects the requests written in one tick and hands them to the socket in as few writes as
 * possible: one latin1 string for small requests; with values above 512 B, one writev of the
 * request lines and the values themselves. While the kernel buffer is full it keeps coalescing and writes once on 'drain';
 * requests still time out on schedule, which bounds how much can pile up.
 */
export class WriteCoalescer {
  private pendingString = '';
  private parts: Array<string | Buffer> = [];
  private flushScheduled = false;
  /** When the requests now waiting for the loop's reads were first held; -1 when none are. */
  private heldSince = -1;
  private waitingForDrain = false;
  private stopped = false;
  /** This tick's flush, sharing the end-of-tick pass with the tick clocks (see `atEndOfTick`). */
  private readonly flushAtEndOfTick = (): void => this.flush();

  /**
   * @param untilPollEnds true while a reply is still arriving (the last read ended inside a
   * value): this tick's requests are then written once the loop has handled every read that came
   * in (`setImmediate`), not at the end of each read's tick. With large values each read completes
   * one or two of them, so writing per tick cost a write syscall per one or two requests (5,906
   * writes for 12,200 gets of 100 KB, against 161 deferred); their replies come after the one
   * arriving anyway (a connection answers in order), so they lose nothing by waiting for it.
   * Held at most `MAX_HOLD_MS` (by `now`), then written at the end of the tick as usual.
   */
  constructor(
    private readonly socket: net.Socket,
    private readonly untilPollEnds: () => boolean = () => false,
    private readonly now: () => number = Date.now,
  ) {
    socket.on('drain', () => {
      this.waitingForDrain = false;
      if (this.pendingString !== '' || this.parts.length > 0) this.flush();
    });
  }

  /** Bytes not yet handed to the kernel: a sign of a slow reader or a large write. */
  get bufferedBytes(): number {
    return this.socket.writableLength + this.pendingString.length;
  }

  /**
   * Queues a request line (and, for `ms`, its data block) for this tick's write. `alone`: the
   * connection has nothing else in flight, so nothing of this tick is queued before it either.
   * It is then written at once: one call at a time (`await client.get()` per web request) is
   * where waiting for the end of the tick only adds latency, as there is nothing to coalesce it
   * with. Calls made after it in the same tick find it in flight and are coalesced as usual.
   */
  append(request: string | Buffer, data: Buffer | null, alone: boolean): void {
    // Request lines are ASCII; a Buffer one (the auth command, whose password may be any UTF-8)
    // goes through latin1, which keeps every byte as it is.
    const payload = typeof request === 'string' ? request : request.toString('latin1');
    if (data === null) {
      this.pendingString += payload;
    } else if (data.length <= INLINE_VALUE_BYTES) {
      // latin1 maps bytes 1:1 to chars, so a small value survives the string round trip exactly,
      // and a run of small requests stays one string: one native write for the whole tick.
      this.pendingString += `${payload}${latin1Slice(data, 0, data.length)}\r\n`;
    } else {
      // Bigger values are not turned into strings nor copied: the socket gets the caller's
      // buffer (or, for a string value, its UTF-8 encoding) as it is. The CRLF after the data
      // block starts the next string part.
      this.parts.push(this.pendingString + payload, data);
      this.pendingString = '\r\n';
    }
    if (this.waitingForDrain) return;
    if (this.pendingString.length >= EAGER_FLUSH_BYTES) {
      this.flush();
      return;
    }
    if (!this.flushScheduled) {
      if (alone) {
        this.flush();
        return;
      }
      this.flushScheduled = true;
      if (this.untilPollEnds()) {
        this.heldSince = this.now();
        setImmediate(this.flushAtEndOfTick);
      } else atEndOfTick(this.flushAtEndOfTick);
    } else if (this.heldSince >= 0) this.releaseHeld();
  }

  /**
   * Requests held for the loop's reads longer than `MAX_HOLD_MS` are written at the end of this
   * tick (called on each append and, by the connection, on each read).
   */
  releaseHeld(): void {
    if (this.heldSince < 0 || this.now() - this.heldSince < MAX_HOLD_MS) return;
    this.heldSince = -1;
    atEndOfTick(this.flushAtEndOfTick);
  }

  /** Writes everything queued so far. */
  flush(): void {
    this.flushScheduled = false;
    this.heldSince = -1;
    if (this.stopped || (this.pendingString === '' && this.parts.length === 0)) return;
    const socket = this.socket;
    let accepted: boolean;
    if (this.parts.length === 0) {
      accepted = socket.write(this.pendingString, 'latin1');
    } else {
      const parts = this.parts;
      if (this.pendingString !== '') parts.push(this.pendingString);
      this.parts = [];
      // One writev of buffers only: the request lines between values as small latin1 buffers
      // (Node's all-buffer writev; strings in it measured no better: main-thread CPU per 100 KB
      // set 26 vs 22.5 µs, per 4 KB set 5.0 vs 4.6 µs, medians of 6, within the noise), the
      // values by reference.
      socket.cork();
      for (let i = 0; i < parts.length; i++) {
        const part = parts[i]!;
        socket.write(typeof part === 'string' ? Buffer.from(part, 'latin1') : part);
      }
      socket.uncork();
      accepted = !socket.writableNeedDrain;
    }
    this.pendingString = '';
    if (!accepted) this.waitingForDrain = true;
  }

  /** Drops everything queued; nothing more is written (the connection is being destroyed). */
  stop(): void {
    this.stopped = true;
    this.pendingString = '';
    this.parts = [];
  }
}
