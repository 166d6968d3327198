// When the write coalescer hands a tick's requests to the socket, and in what pieces.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { it } from 'node:test';
import { setImmediate as immediate } from 'node:timers/promises';
import { WriteCoalescer } from '../../src/transport/WriteCoalescer.js';

/** A socket that records what is written to it (a string, or the buffers of one corked batch). */
class RecordingSocket extends EventEmitter {
  writes: Array<string | Array<string | Buffer>> = [];
  writableLength = 0;
  writableNeedDrain = false;
  /** What `write` returns: false once the kernel buffer is "full" (then 'drain' is awaited). */
  accepting = true;
  private corked: Array<string | Buffer> | null = null;
  write(chunk: string | Buffer): boolean {
    if (this.corked !== null) this.corked.push(chunk);
    else this.writes.push(chunk as string);
    return this.accepting;
  }
  cork(): void {
    this.corked = [];
  }
  uncork(): void {
    this.writes.push(this.corked!);
    this.corked = null;
  }
}

function coalescer(
  midReply: () => boolean,
  now: () => number = () => 0,
): { socket: RecordingSocket; writer: WriteCoalescer } {
  const socket = new RecordingSocket();
  return { socket, writer: new WriteCoalescer(socket as unknown as net.Socket, midReply, now) };
}

const endOfTick = (): Promise<void> => new Promise<void>((resolve) => process.nextTick(resolve));

it('a tick’s requests are written at the end of the tick, in one write', async () => {
  const { socket, writer } = coalescer(() => false);
  writer.append('mg a v\r\n', null, false);
  writer.append('mg b v\r\n', null, false);
  assert.deepEqual(socket.writes, []);
  await Promise.resolve();
  await new Promise<void>((resolve) => process.nextTick(resolve));
  assert.deepEqual(socket.writes, ['mg a v\r\nmg b v\r\n']);
});

it('a request alone on its connection is written at once; the calls after it in the tick are coalesced', async () => {
  const { socket, writer } = coalescer(() => false);
  writer.append('mg a v\r\n', null, true);
  assert.deepEqual(socket.writes, ['mg a v\r\n'], 'written before the tick ends');
  writer.append('mg b v\r\n', null, false);
  writer.append('mg c v\r\n', null, false);
  assert.equal(socket.writes.length, 1);
  await endOfTick();
  assert.deepEqual(socket.writes, ['mg a v\r\n', 'mg b v\r\nmg c v\r\n']);
});

it('alone does not jump the queue: behind a flush due at the end of the tick or a full kernel buffer it waits', async () => {
  const { socket, writer } = coalescer(() => false);
  writer.append('mg a v\r\n', null, false);
  writer.append('mg b v\r\n', null, true);
  assert.deepEqual(socket.writes, [], 'behind a flush already due at the end of the tick');
  await endOfTick();
  assert.deepEqual(socket.writes, ['mg a v\r\nmg b v\r\n']);
  socket.accepting = false;
  writer.append('mg c v\r\n', null, true);
  writer.append('mg d v\r\n', null, true);
  assert.deepEqual(socket.writes.slice(1), ['mg c v\r\n'], 'the kernel buffer is full: d waits for drain');
  socket.accepting = true;
  socket.emit('drain');
  assert.deepEqual(socket.writes.slice(2), ['mg d v\r\n']);
});

it('while a reply is arriving, the tick’s requests wait for the loop’s reads, then go in one write', async () => {
  let midReply = true;
  const { socket, writer } = coalescer(() => midReply);
  writer.append('mg a v\r\n', null, false);
  await new Promise<void>((resolve) => process.nextTick(resolve));
  assert.deepEqual(socket.writes, [], 'not at the end of the tick');
  // Another read's tick: the reply ended there, but the write is already due after the reads.
  midReply = false;
  writer.append('mg b v\r\n', null, false);
  await immediate();
  assert.deepEqual(socket.writes, ['mg a v\r\nmg b v\r\n']);
  // Nothing arriving: back to the end of the tick.
  writer.append('mg c v\r\n', null, false);
  await new Promise<void>((resolve) => process.nextTick(resolve));
  assert.deepEqual(socket.writes, ['mg a v\r\nmg b v\r\n', 'mg c v\r\n']);
});

it('requests are held at most 2 ms: then the next append or read writes them at the end of its tick', async () => {
  let time = 1000;
  const { socket, writer } = coalescer(
    () => true,
    () => time,
  );
  writer.append('mg a v\r\n', null, false);
  time += 1;
  writer.append('mg b v\r\n', null, false);
  writer.releaseHeld(); // a read 1 ms later
  await endOfTick();
  assert.deepEqual(socket.writes, [], 'held for 1 ms');
  time += 1;
  writer.append('mg c v\r\n', null, false);
  await endOfTick();
  assert.deepEqual(socket.writes, ['mg a v\r\nmg b v\r\nmg c v\r\n'], 'released at 2 ms by an append');
  // Held again; this time a read (no append) releases them.
  writer.append('mg d v\r\n', null, false);
  time += 5;
  writer.releaseHeld();
  await endOfTick();
  assert.deepEqual(socket.writes.at(-1), 'mg d v\r\n');
  await immediate();
  assert.equal(socket.writes.length, 2, 'the pending immediate finds nothing more to write');
});

it('a held write still goes at once when the tick has queued 64 KB', () => {
  const { socket, writer } = coalescer(() => true);
  const line = `mg ${'k'.repeat(200)} v\r\n`;
  for (let i = 0; i * line.length < 64 * 1024; i++) writer.append(line, null, false);
  assert.equal(socket.writes.length, 1);
});

it('values above 512 B go to the socket as they are, between their header and CRLF: no copy', async () => {
  const { socket, writer } = coalescer(() => false);
  const small = Buffer.alloc(512, 6);
  const medium = Buffer.alloc(513, 7);
  const large = Buffer.alloc(100 * 1024, 8);
  writer.append('ms a 512\r\n', small, false);
  writer.append('ms b 513\r\n', medium, false);
  writer.append('ms c 102400\r\n', large, false);
  writer.append('mg c v\r\n', null, false);
  await new Promise<void>((resolve) => process.nextTick(resolve));
  assert.equal(socket.writes.length, 1, 'one corked batch: one writev');
  const batch = socket.writes[0] as Array<string | Buffer>;
  assert.equal(batch.length, 5);
  assert.equal(
    batch[0]!.toString('latin1'),
    `ms a 512\r\n${small.toString('latin1')}\r\nms b 513\r\n`,
    '512 B rides in the string',
  );
  assert.equal(batch[1], medium, 'the caller’s buffer itself');
  assert.equal(batch[2]!.toString(), '\r\nms c 102400\r\n');
  assert.equal(batch[3], large);
  assert.equal(batch[4]!.toString(), '\r\nmg c v\r\n');
});

it('stop() drops a held write: nothing is written after the connection is gone', async () => {
  const { socket, writer } = coalescer(() => true);
  writer.append('mg a v\r\n', null, false);
  writer.stop();
  await immediate();
  assert.deepEqual(socket.writes, []);
});
