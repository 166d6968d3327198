// Issue 21, items 1 and 4, on three real memcached servers: a server that was ejected and comes
// back must not serve what was overwritten or removed while it was out (each writer process
// replays its own record of the outage before the server takes traffic again), and a batch read
// retried after its server died must find every key on its own new owner.
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createInterface, type Interface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import type { MemcachedClient } from '../../src/client/MemcachedClient.js';
import { ConnectionError } from '../../src/component/errors.js';
import { type OutageReplayed, REPLAY_CHANNEL } from '../../src/topology/TopologyChange.js';
import {
  type MemcachedProcess,
  rawCommand,
  recordSockets,
  startMemcachedCluster,
  stopAllMemcached,
} from '../support/index.js';
import { removedDuringOutage, scenarioKeys } from './fixtures/outageScenario.js';
import { closeAll, makeClient, pauseAndWait, waitFor } from './helpers.js';

/** Default options but for a short ejection and probe: the scenario must run in seconds. */
const SHORT = { failures: 2, retryMs: 500 } as const;

/** What a read of every scenario key after the rejoin found. */
interface Reading {
  stale: string[];
  resurrected: string[];
  current: number;
  misses: number;
}

/** Reads every key: a `v0` value is stale (every key was rewritten), a removed key that is back is resurrected. */
async function readAll(client: MemcachedClient, removed: ReadonlySet<string>): Promise<Reading> {
  const reading: Reading = { stale: [], resurrected: [], current: 0, misses: 0 };
  for (const key of scenarioKeys()) {
    const value = (await client.get(key))?.value.toString() ?? null;
    if (removed.has(key)) {
      if (value !== null) reading.resurrected.push(key);
    } else if (value === null) reading.misses++;
    else if (value === `v0:${key}`) reading.stale.push(key);
    else reading.current++;
  }
  return reading;
}

/** Reads `victim`'s keys until `client` ejects it (the server is paused). */
async function ejectBy(client: MemcachedClient, victim: MemcachedProcess, keys: readonly string[]) {
  const ejected = await waitFor(async () => {
    await Promise.allSettled(keys.slice(0, 4).map((k) => client.get(k)));
    return !client.cluster.isAlive(victim.address);
  }, 15_000);
  assert.ok(ejected, `${victim.address} was not ejected`);
}

describe('a server that rejoins serves nothing older than what this process wrote or removed meanwhile', () => {
  let servers: MemcachedProcess[];
  before(async () => {
    servers = await startMemcachedCluster(3);
  });
  after(async () => {
    closeAll();
    await stopAllMemcached();
  });

  test('one writer: 1,000 keys rewritten and half of the paused server’s keys removed → 0 stale, 0 resurrected', async (t) => {
    const [a] = servers as [MemcachedProcess];
    for (const server of servers) server.resume();
    const writer = makeClient(servers, SHORT);
    await writer.connect();
    await writer.flush();
    const keys = scenarioKeys();
    await Promise.all(keys.map((k) => writer.set(k, `v0:${k}`)));
    const victimKeys = keys.filter((k) => writer.serverFor(k) === a.address);
    const removed = new Set(removedDuringOutage(victimKeys));

    const replays: OutageReplayed[] = [];
    const onReplay = (message: unknown): void => {
      replays.push(message as OutageReplayed);
    };
    subscribe(REPLAY_CHANNEL, onReplay);
    await pauseAndWait(a);
    try {
      await ejectBy(writer, a, victimKeys);
      await Promise.all(keys.map((k) => writer.set(k, `v1:${k}`)));
      await Promise.all([...removed].map((k) => writer.delete(k)));
    } finally {
      a.resume();
    }
    const resumedAt = performance.now();
    assert.ok(await waitFor(() => writer.cluster.isAlive(a.address), 15_000), 'A was re-admitted');
    t.diagnostic(`re-admitted ${(performance.now() - resumedAt).toFixed(0)} ms after the resume`);
    unsubscribe(REPLAY_CHANNEL, onReplay);
    assert.deepEqual(
      replays.map((r) => [r.server, r.keys, r.flushed]),
      [[a.address, victimKeys.length, false]],
      'one replay: every key of A changed during the outage, deleted on A',
    );
    t.diagnostic(`replay of ${replays[0]!.keys} keys took ${replays[0]!.ms} ms`);

    const seenByWriter = await readAll(writer, removed);
    // A reader that never saw the outage routes A's keys to A from the start.
    const reader = makeClient(servers);
    const seenByReader = await readAll(reader, removed);
    for (const [who, seen] of [
      ['writer', seenByWriter],
      ['fresh reader', seenByReader],
    ] as const) {
      assert.deepEqual(
        [seen.stale.length, seen.resurrected.length],
        [0, 0],
        `${who}: ${seen.stale.length} stale (of ${victimKeys.length} keys of A), ${seen.resurrected.length} resurrected (of ${removed.size} removed)`,
      );
    }
    t.diagnostic(
      `writer read ${seenByWriter.current} current, ${seenByWriter.misses} misses; fresh reader ${seenByReader.current} current, ${seenByReader.misses} misses`,
    );
    assert.equal(seenByWriter.current + seenByWriter.misses + removed.size, keys.length);
    assert.ok(seenByWriter.current >= keys.length - victimKeys.length, 'the other servers’ keys are current');
  });

  test('two writer processes, each replaying its own record → 0 stale, 0 resurrected', async (t) => {
    const [a] = servers as [MemcachedProcess];
    for (const server of servers) server.resume();
    const list = servers.map((s) => s.address).join(',');
    const workers = [0, 1].map((part) => new Writer(list, part, 2));
    try {
      const setup = makeClient(servers);
      await setup.flush();
      await Promise.all(workers.map((w) => w.ask('load', 'loaded')));
      const keys = scenarioKeys();
      const removed = new Set<string>();
      for (const part of [0, 1]) {
        const victimKeys = keys.filter((k, i) => i % 2 === part && setup.serverFor(k) === a.address);
        for (const k of removedDuringOutage(victimKeys)) removed.add(k);
      }
      await pauseAndWait(a);
      try {
        await Promise.all(workers.map((w) => w.ask(`outage ${a.address}`, 'rewritten')));
      } finally {
        a.resume();
      }
      await Promise.all(workers.map((w) => w.ask(`rejoin ${a.address}`, 'rejoined')));

      const reader = makeClient(servers);
      const seen = await readAll(reader, removed);
      t.diagnostic(`reader: ${seen.current} current, ${seen.misses} misses, ${removed.size} removed`);
      assert.deepEqual(
        [seen.stale.length, seen.resurrected.length],
        [0, 0],
        `${seen.stale.length} stale, ${seen.resurrected.length} resurrected (of ${removed.size} removed)`,
      );
    } finally {
      for (const w of workers) w.close();
    }
  });
});

/** The remaining TTL memcached reports for `key` on `server` (-1: never expires; null: missing). */
async function ttlOn(server: MemcachedProcess, key: string): Promise<number | null> {
  const reply = (await rawCommand(server.target, `mg ${key} t\r\n`)).toString('latin1');
  if (reply.startsWith('EN')) return null;
  return Number(/ t(-?\d+)/.exec(reply)![1]);
}

describe('while a server is out', () => {
  let servers: MemcachedProcess[];
  before(async () => {
    servers = await startMemcachedCluster(3);
  });
  after(async () => {
    closeAll();
    await stopAllMemcached();
  });

  test('writes that go to a substitute live at most failover_ttl (60 s by default), TTL 0 included; failover:false calls fail at once', async () => {
    const [a] = servers as [MemcachedProcess];
    const client = makeClient(servers, SHORT);
    await client.connect();
    const keys = scenarioKeys().filter((k) => client.serverFor(k) === a.address);
    await pauseAndWait(a);
    try {
      await ejectBy(client, a, keys);
      const [never, long, short, counter, touched] = keys as [string, string, string, string, string];
      await client.set(never, 'x'); // ttl 0: never expires
      await client.set(long, 'x', { ttl: 3600 });
      await client.set(short, 'x', { ttl: 10 });
      await client.incr(counter, 1, { initial: 5, ttl: 0 });
      await client.set(touched, 'x', { ttl: 5 });
      await client.touch(touched, 86_400 * 60); // 60 days: an absolute time on the wire
      const ttl = async (k: string) => ttlOn(servers.find((s) => s.address === client.serverFor(k))!, k);
      for (const k of [never, long, counter, touched]) {
        const left = await ttl(k);
        assert.ok(left !== null && left > 0 && left <= 60, `${k}: TTL ${left} on the substitute`);
      }
      const left = await ttl(short);
      assert.ok(left !== null && left > 0 && left <= 10, `a shorter TTL is kept: ${left}`);

      const started = performance.now();
      const refused = await client.set(never, 'y', { failover: false }).catch((e: unknown) => e);
      assert.ok(performance.now() - started < 50, 'at once');
      assert.ok(refused instanceof ConnectionError, String(refused));
      assert.equal(refused.server, a.address);
      assert.equal(refused.details?.requestSent, false);
      assert.match(refused.message, /does not fail over/);
      await assert.rejects(client.getMany([never, 'elsewhere'], { failover: false }), ConnectionError);
      assert.equal((await client.get(never))?.value.toString(), 'x', 'the substitute copy is untouched');
    } finally {
      a.resume();
    }
  });

  test('a record that overflows outage_record_size: the server is flushed before it rejoins', async () => {
    const [a] = servers as [MemcachedProcess];
    const client = makeClient(servers, { ...SHORT, outageRecordSize: 10 });
    await client.connect();
    await client.flush();
    const keys = scenarioKeys().filter((k) => client.serverFor(k) === a.address);
    await Promise.all(keys.map((k) => client.set(k, `v0:${k}`)));
    await pauseAndWait(a);
    try {
      await ejectBy(client, a, keys);
      await Promise.all(keys.slice(0, 20).map((k) => client.set(k, `v1:${k}`)));
    } finally {
      a.resume();
    }
    assert.ok(await waitFor(() => client.cluster.isAlive(a.address), 15_000), 'A was re-admitted');
    const after = await client.getMany(keys);
    assert.equal(after.size, 0, `${after.size} of ${keys.length} keys of A kept their pre-outage value`);
  });
});

describe('a retried batch read goes to each key’s own server', () => {
  after(async () => {
    closeAll();
    await stopAllMemcached();
  });

  test('getMany of 200 keys of a server killed with the batch in flight finds all 200 on their new owners', async () => {
    const [a, b, c] = (await startMemcachedCluster(3)) as [
      MemcachedProcess,
      MemcachedProcess,
      MemcachedProcess,
    ];
    const opened = recordSockets();
    const client = makeClient([a, b, c], { failures: 1, retries: 3, requestTimeoutMs: 2000 });
    await client.connect();
    opened.stop();
    const keys: string[] = [];
    for (let i = 0; keys.length < 200; i++)
      if (client.serverFor(`batch:${i}`) === a.address) keys.push(`batch:${i}`);
    // Where the keys live once A is out: a client of B and C routes like the ring without A.
    const survivors = makeClient([b, c]);
    await Promise.all(keys.map((k) => survivors.set(k, `on-survivor:${k}`)));
    const owners = new Set(keys.map((k) => survivors.serverFor(k)));
    assert.equal(owners.size, 2, 'the keys of A spread over both survivors');

    const toA = opened.sockets.find((s) => s.remotePort === a.port);
    assert.ok(toA, 'a socket to A');
    await pauseAndWait(a);
    const written = toA.bytesWritten;
    const batch = client.getMany(keys);
    assert.ok(await waitFor(() => toA.bytesWritten > written, 2000), 'the batch was written to A');
    await a.kill();
    const found = await batch;
    assert.equal(found.size, 200, `${200 - found.size} of 200 keys came back as misses`);
    for (const k of keys) assert.equal(found.get(k)?.value.toString(), `on-survivor:${k}`);
  });
});

/** A writer process (fixtures/outageWriter.ts), driven one command line at a time. */
class Writer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly replies: string[] = [];
  private stderr = '';

  constructor(list: string, part: number, of: number) {
    const script = new URL('./fixtures/outageWriter.ts', import.meta.url).pathname;
    this.child = spawn(process.execPath, ['--import', 'tsx', script, list, String(part), String(of)]);
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.lines = createInterface({ input: this.child.stdout });
    this.lines.on('line', (line) => this.replies.push(line));
  }

  async ask(command: string, expected: string): Promise<void> {
    this.child.stdin.write(`${command}\n`);
    const answered = await waitFor(() => this.replies.length > 0 || this.child.exitCode !== null, 60_000);
    const reply = this.replies.shift();
    assert.ok(
      answered && reply === expected,
      `${command}: got ${reply ?? 'nothing'}; stderr: ${this.stderr}`,
    );
  }

  close(): void {
    this.child.stdin.end('close\n');
  }
}
