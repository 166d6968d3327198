// Pins the encoders and the parser to the bytes a real memcached sends: encoder output goes over a
// raw socket, the replies go through ResponseParser. The server is started here and stopped by the
// PID this file spawned.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeKey } from '../../src/protocol/KeyEncoder.js';
import type { MetaResponse } from '../../src/protocol/MetaResponse.js';
import {
  authenticationCommand,
  flushAllCommand,
  metaArithmetic,
  metaDelete,
  metaGet,
  metaGetFlags,
  metaInvalidate,
  metaNoop,
  metaSetHeader,
  metaTouch,
  SetMode,
  statsCommand,
  versionCommand,
} from '../../src/protocol/RequestEncoder.js';
import { ResponseParser } from '../../src/protocol/ResponseParser.js';
import { ResponseStatus } from '../../src/protocol/ResponseStatus.js';
import { wireCas, wireFlags, wireStatsGroup, wireTtl, wireUint64 } from '../../src/protocol/WireFields.js';

const S = ResponseStatus;
const HOST = '127.0.0.1';
const BINARY = process.env.MEMCACHED_BIN ?? '/usr/bin/memcached';

// The encoder takes only typed parts; these build them through the checks the commands use.
const ttl = (seconds: number) => wireTtl(seconds, 'ttl');
const flags = (value: number) => wireFlags(value, 'flags');
const cas = (value: string | bigint) => wireCas(value, 'cas');
const u64 = (value: number | bigint) => wireUint64(value, 'delta');
const ITEM = metaGetFlags({ item: true });
const ITEM_QUIET = metaGetFlags({ item: true, quiet: true });
const ITEM_TTL = metaGetFlags({ item: true, ttl: true });
const T0 = ttl(0);
const F0 = flags(0);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: HOST, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves with a connected socket, or rejects when nothing listens yet. */
function tryConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** A connection whose replies are parsed by ResponseParser as they arrive, in whatever chunks TCP gives. */
class WireConnection {
  readonly responses: MetaResponse[] = [];
  readonly errors: Error[] = [];
  chunks = 0;
  private readonly parser: ResponseParser;
  private waiter: { done: () => boolean; resolve: () => void } | null = null;

  constructor(readonly socket: Socket) {
    this.parser = new ResponseParser({
      onResponse: (r) => {
        this.responses.push(r);
        this.wake();
      },
      onError: (e) => {
        this.errors.push(e);
        this.wake();
      },
    });
    socket.on('data', (chunk: Buffer) => {
      this.chunks++;
      this.parser.feed(chunk);
    });
  }

  private wake(): void {
    if (this.waiter !== null && (this.waiter.done() || this.errors.length > 0)) {
      this.waiter.resolve();
      this.waiter = null;
    }
  }

  /** Sends `request` and waits for `count` more responses; returns them. */
  send(request: string | Buffer | (string | Buffer)[], count: number): Promise<MetaResponse[]> {
    const start = this.responses.length;
    return this.sendUntil(request, () => this.responses.length >= start + count);
  }

  /** Sends `request` and waits until `done()`; returns the responses that arrived. */
  async sendUntil(
    request: string | Buffer | (string | Buffer)[],
    done: () => boolean,
  ): Promise<MetaResponse[]> {
    const start = this.responses.length;
    const parts = Array.isArray(request) ? request : [request];
    await this.exchange(parts, done, start);
    assert.deepEqual(this.errors, []);
    const count = this.responses.length;
    // Nothing more may arrive: a stray reply would mean the request and reply streams drifted
    // apart. memcached answers in order, so a stray reply comes before the answer to a no-op
    // sent now: the next response must be that MN (then dropped from the list).
    await this.exchange([metaNoop()], () => this.responses.length > count, start);
    assert.deepEqual(this.errors, []);
    assert.equal(this.responses[count]?.status, S.NoOp, 'no extra responses');
    assert.equal(this.responses.length, count + 1, 'no extra responses');
    this.responses.pop();
    assert.equal(this.parser.hasPartial, false);
    return this.responses.slice(start);
  }

  /** Writes `parts` and waits (at most 5 s) until `done()` or an error. */
  private async exchange(parts: (string | Buffer)[], done: () => boolean, start: number): Promise<void> {
    const arrived = new Promise<void>((resolve) => {
      this.waiter = { done, resolve };
    });
    this.socket.write(
      Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p))),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out (got ${this.responses.length - start})`)), 5000);
    });
    try {
      await Promise.race([arrived, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

describe('encoders and parser against a real memcached', () => {
  let child: ChildProcess | null = null;
  let conn: WireConnection;

  before(async () => {
    accessSync(BINARY, constants.X_OK);
    let lastError: unknown;
    for (let attempt = 0; attempt < 5 && child === null; attempt++) {
      const port = await freePort();
      const spawned = spawn(BINARY, ['-u', 'root', '-l', HOST, '-p', String(port), '-U', '0', '-m', '64'], {
        stdio: 'ignore',
      });
      spawned.once('error', () => {});
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline && spawned.exitCode === null) {
        try {
          const socket = await tryConnect(port);
          conn = new WireConnection(socket);
          child = spawned;
          break;
        } catch (error) {
          lastError = error;
          await sleep(20);
        }
      }
      if (child === null && spawned.exitCode === null && spawned.pid !== undefined) process.kill(spawned.pid);
    }
    if (child === null) throw new Error(`memcached did not start: ${String(lastError)}`);
  });

  after(async () => {
    conn?.socket.destroy();
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      process.kill(child.pid, 'SIGTERM');
      await Promise.race([exited, sleep(2000)]);
    }
  });

  test('stats comes from the process this file spawned; STAT lines end with END', async () => {
    const replies = await conn.sendUntil(statsCommand(null), () => conn.responses.at(-1)?.status === S.End);
    const stats = replies.filter((r) => r.status === S.Stat);
    assert.ok(stats.length > 10);
    assert.equal(replies.at(-1)!.status, S.End);
    assert.equal(stats.find((r) => r.text.startsWith('pid '))?.text, `pid ${child!.pid}`);
  });

  test('version', async () => {
    const [version] = await conn.send(versionCommand(), 1);
    assert.equal(version!.status, S.Version);
    assert.match(version!.text, /^1\.6\.\d+/);
  });

  test('ms then mg returns the value, flags, CAS and TTL; mn ends a quiet miss', async () => {
    const key = encodeKey('wire:a', 250);
    const [set, get, miss, noop] = await conn.send(
      [
        metaSetHeader(key, 3, T0, flags(5), SetMode.Set, null, 1),
        'bar\r\n',
        metaGet(key, ITEM_TTL, 2),
        metaGet(encodeKey('wire:missing', 250), ITEM, 3),
        metaGet(encodeKey('wire:missing', 250), ITEM_QUIET, 4),
        metaNoop(),
      ],
      4,
    );
    assert.equal(set!.status, S.Header);
    assert.equal(set!.opaque, 1);
    assert.equal(get!.status, S.Value);
    assert.equal(get!.opaque, 2);
    assert.equal(get!.value!.toString('latin1'), 'bar');
    assert.equal(get!.clientFlags, 5);
    assert.equal(get!.ttl, -1);
    assert.match(get!.cas, /^[1-9]\d*$/);
    assert.equal(miss!.status, S.Miss);
    assert.equal(miss!.opaque, 3);
    assert.equal(noop!.status, S.NoOp);
  });

  test('a set sending no TTL and no flags (both 0) replaces a TTL and flags the key had', async () => {
    const key = encodeKey('wire:defaults', 250);
    const [, before, , after] = await conn.send(
      [
        metaSetHeader(key, 1, ttl(600), flags(9), SetMode.Set, null, 5),
        'x\r\n',
        metaGet(key, ITEM_TTL, 6),
        metaSetHeader(key, 1, T0, F0, SetMode.Set, null, 7),
        'y\r\n',
        metaGet(key, ITEM_TTL, 8),
      ],
      4,
    );
    assert.equal(before!.clientFlags, 9);
    assert.ok(before!.ttl > 0 && before!.ttl <= 600, `ttl ${before!.ttl}`);
    assert.equal(after!.value!.toString('latin1'), 'y');
    assert.equal(after!.clientFlags, 0);
    assert.equal(after!.ttl, -1, 'no TTL sent: the item never expires');
  });

  test('add of an existing key is NS; a stale CAS is EX; the right CAS is HD', async () => {
    const key = encodeKey('wire:cas', 250);
    const [, got] = await conn.send(
      [metaSetHeader(key, 1, T0, F0, SetMode.Set, null, 10), 'x\r\n', metaGet(key, ITEM, 11)],
      2,
    );
    const current = got!.cas;
    assert.notEqual(current, '');
    const [add, stale, right] = await conn.send(
      [
        metaSetHeader(key, 1, T0, F0, SetMode.Add, null, 12),
        'y\r\n',
        metaSetHeader(key, 1, T0, F0, SetMode.Set, cas(BigInt(current) + 1000n), 13),
        'y\r\n',
        metaSetHeader(key, 1, T0, F0, SetMode.Set, cas(current), 14),
        'z\r\n',
      ],
      3,
    );
    assert.deepEqual(
      [add, stale, right].map((r) => [r!.status, r!.opaque]),
      [
        [S.NotStored, 12],
        [S.Exists, 13],
        [S.Header, 14],
      ],
    );
  });

  test('md: HD, then NF; a CAS-guarded delete with a stale CAS is EX', async () => {
    const key = encodeKey('wire:del', 250);
    const replies = await conn.send(
      [
        metaSetHeader(key, 1, T0, F0, SetMode.Set, null, 20),
        'x\r\n',
        metaDelete(key, cas('1'), 21),
        metaDelete(key, null, 22),
        metaDelete(key, null, 23),
      ],
      4,
    );
    assert.deepEqual(
      replies.map((r) => [r.status, r.opaque]),
      [
        [S.Header, 20],
        [S.Exists, 21],
        [S.Header, 22],
        [S.NotFound, 23],
      ],
    );
  });

  test('ma: auto-create, increment, decrement, and NF without auto-create', async () => {
    const key = encodeKey('wire:counter', 250);
    const missing = encodeKey('wire:no-counter', 250);
    const replies = await conn.send(
      [
        metaArithmetic(key, false, u64(1), { initial: u64(10), ttl: T0 }, 30),
        metaArithmetic(key, false, u64(5), null, 31),
        metaArithmetic(key, true, u64(1), null, 32),
        metaArithmetic(missing, false, u64(1), null, 33),
      ],
      4,
    );
    assert.deepEqual(
      replies.map((r) => [r.status, r.opaque, r.value?.toString('latin1') ?? null]),
      [
        [S.Value, 30, '10'],
        [S.Value, 31, '15'],
        [S.Value, 32, '14'],
        [S.NotFound, 33, null],
      ],
    );
  });

  test('a base64 key (unicode, space, CRLF) round-trips through ms, mg, ma and md', async () => {
    const key = encodeKey('ключ x\r\nflush_all', 250);
    assert.ok(key.token.endsWith(' b'));
    const replies = await conn.send(
      [
        metaSetHeader(key, 2, T0, flags(7), SetMode.Set, null, 40),
        'hi\r\n',
        metaGet(key, ITEM, 41),
        metaGet(encodeKey('ключ', 250), ITEM, 42),
        metaDelete(key, null, 43),
        metaGet(key, ITEM, 44),
        metaArithmetic(encodeKey('счётчик', 250), false, u64(1), { initial: u64(1), ttl: T0 }, 45),
      ],
      6,
    );
    assert.deepEqual(
      replies.map((r) => [r.status, r.opaque, r.value?.toString('latin1') ?? null, r.clientFlags]),
      [
        [S.Header, 40, null, 0],
        [S.Value, 41, 'hi', 7],
        [S.Miss, 42, null, 0],
        [S.Header, 43, null, 0],
        [S.Miss, 44, null, 0],
        [S.Value, 45, '1', 0],
      ],
    );
  });

  test('binary values (every byte, CRLF END CRLF inside, empty, 512 KB) come back byte for byte', async () => {
    const values = [
      Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
      Buffer.from('\r\nEND\r\nVA 3 O1\r\nOK\r\n', 'latin1'),
      Buffer.alloc(0),
      Buffer.alloc(512 * 1024, 'ab\r\n'),
    ];
    const requests: (string | Buffer)[] = [];
    values.forEach((value, i) => {
      const key = encodeKey(`wire:bin:${i}`, 250);
      requests.push(metaSetHeader(key, value.length, T0, F0, SetMode.Set, null, 50 + i), value, '\r\n');
      requests.push(metaGet(key, ITEM, 60 + i));
    });
    const chunksBefore = conn.chunks;
    const replies = await conn.send(requests, values.length * 2);
    assert.ok(conn.chunks - chunksBefore > 1, 'the 512 KB reply arrived in several chunks');
    values.forEach((value, i) => {
      const set = replies[i * 2]!;
      const get = replies[i * 2 + 1]!;
      assert.deepEqual([set.status, set.opaque], [S.Header, 50 + i]);
      assert.deepEqual([get.status, get.opaque], [S.Value, 60 + i]);
      assert.ok(get.value!.equals(value), `value ${i} is byte-identical`);
    });
  });

  test('touch answers HD and sets the TTL; mg (v f c t) reports it', async () => {
    const key = encodeKey('wire:touch', 250);
    const replies = await conn.send(
      [
        metaSetHeader(key, 1, T0, F0, SetMode.Set, null, 70),
        'x\r\n',
        metaTouch(key, ttl(300), 71),
        metaGet(key, ITEM_TTL, 72),
      ],
      3,
    );
    assert.deepEqual(
      replies.map((r) => [r.status, r.opaque]),
      [
        [S.Header, 70],
        [S.Header, 71],
        [S.Value, 72],
      ],
    );
    assert.ok(replies[2]!.ttl > 290 && replies[2]!.ttl <= 300, `ttl ${replies[2]!.ttl}`);
  });

  test('md I T marks the item stale: the first reader wins (X W), the next sees X Z; quiet md is silent', async () => {
    const key = encodeKey('wire:invalidate', 250);
    const replies = await conn.send(
      [
        metaSetHeader(key, 1, T0, F0, SetMode.Set, null, 90),
        'x\r\n',
        metaInvalidate(key, ttl(30), null, 91),
        metaGet(key, ITEM, 92),
        metaGet(key, ITEM, 93),
        metaDelete(key, null, 94, true),
        metaGet(key, ITEM, 95),
        metaNoop(),
      ],
      6,
    );
    assert.deepEqual(
      replies.map((r) => [r.status, r.opaque, r.stale, r.win, r.winSent]),
      [
        [S.Header, 90, false, false, false],
        [S.Header, 91, false, false, false],
        [S.Value, 92, true, true, false],
        [S.Value, 93, true, false, true],
        [S.Miss, 95, false, false, false],
        [S.NoOp, -1, false, false, false],
      ],
    );
  });

  test('ms with a stale CAS and I is stored but marked stale', async () => {
    const key = encodeKey('wire:stale-write', 250);
    const [, got] = await conn.send(
      [metaSetHeader(key, 1, T0, F0, SetMode.Set, null, 100), 'x\r\n', metaGet(key, ITEM, 101)],
      2,
    );
    const stale = cas(BigInt(got!.cas) - 1n);
    const replies = await conn.send(
      [metaSetHeader(key, 1, T0, F0, SetMode.Set, stale, 102, true), 'y\r\n', metaGet(key, ITEM, 103)],
      2,
    );
    assert.deepEqual(
      replies.map((r) => [r.status, r.opaque, r.value?.toString('latin1') ?? null, r.stale]),
      [
        [S.Header, 102, null, false],
        [S.Value, 103, 'y', true],
      ],
    );
  });

  test('mg lease (N) and refresh-ahead (R): one caller wins, the next sees Z', async () => {
    const missing = encodeKey('wire:lease', 250);
    const lease = metaGetFlags({ item: true, lease: ttl(30) });
    const [first, second] = await conn.send([metaGet(missing, lease, 110), metaGet(missing, lease, 111)], 2);
    assert.deepEqual([first!.opaque, first!.win, first!.winSent], [110, true, false]);
    assert.deepEqual([second!.opaque, second!.win, second!.winSent], [111, false, true]);

    const key = encodeKey('wire:refresh', 250);
    const refresh = metaGetFlags({ item: true, refreshAhead: ttl(30) });
    const replies = await conn.send(
      [
        metaSetHeader(key, 1, ttl(10), F0, SetMode.Set, null, 112),
        'x\r\n',
        metaGet(key, refresh, 113),
        metaGet(key, refresh, 114),
      ],
      3,
    );
    assert.deepEqual(
      replies.map((r) => [r.status, r.opaque, r.win, r.winSent]),
      [
        [S.Header, 112, false, false],
        [S.Value, 113, true, false],
        [S.Value, 114, false, true],
      ],
    );
  });

  test('stats with a group: STAT lines end with END', async () => {
    const replies = await conn.sendUntil(
      statsCommand(wireStatsGroup('settings', 'group')),
      () => conn.responses.at(-1)?.status === S.End,
    );
    assert.ok(replies.some((r) => r.status === S.Stat && r.text.startsWith('maxconns ')));
  });

  test('a data block of the wrong length is CLIENT_ERROR, then the leftover line is ERROR', async () => {
    const key = encodeKey('wire:bad', 250);
    const [clientError, error] = await conn.send(
      [metaSetHeader(key, 3, T0, F0, SetMode.Set, null, 80), 'barx\r\n'],
      2,
    );
    assert.equal(clientError!.status, S.ClientError);
    assert.equal(clientError!.text, 'bad data chunk');
    assert.equal(error!.status, S.Error);
  });

  test('auth command (no -Y: a plain set) is STORED; flush_all is OK', async () => {
    const [stored, ok] = await conn.send([authenticationCommand('user', 'secret'), flushAllCommand(T0)], 2);
    assert.equal(stored!.status, S.Stored);
    assert.equal(ok!.status, S.Ok);
  });
});
