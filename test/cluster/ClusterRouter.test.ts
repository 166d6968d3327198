import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ClusterChange, ClusterRouter } from '../../src/cluster/ClusterRouter.js';
import { KetamaRing } from '../../src/cluster/KetamaRing.js';
import type { ServerSelector, ServerSpec } from '../../src/cluster/ServerSelector.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const SERVERS: ServerSpec[] = [0, 1, 2, 3].map((i) => ({
  id: `127.0.0.1:${11300 + i}`,
  host: '127.0.0.1',
  port: 11300 + i,
}));
const [A, B, C, D] = SERVERS.map((s) => s.id) as [string, string, string, string];
const KEYS = Array.from({ length: 4000 }, (_, i) => `key-${i}`);

function setup(opts: { failures?: number; retryMs?: number } = {}) {
  const c = { t: 5_000, now: () => c.t };
  const changes: ClusterChange[] = [];
  const router = new ClusterRouter({
    servers: SERVERS,
    failures: opts.failures ?? 3,
    retryMs: opts.retryMs ?? 10_000,
    now: c.now,
    onChange: (ch) => changes.push(ch),
  });
  const route = () => new Map(KEYS.map((k) => [k, router.pick(utf8(k))]));
  return { c, router, changes, route };
}

describe('ClusterRouter', () => {
  it('routes like a KetamaRing over all servers while everyone is healthy', () => {
    const { router } = setup();
    const ring = new KetamaRing(SERVERS);
    for (const k of KEYS) assert.equal(router.pick(utf8(k)), ring.pickString(k));
    assert.deepEqual(router.serverIds, [A, B, C, D]);
    assert.deepEqual(router.routing, [A, B, C, D]);
  });

  it('ejects after `failures` consecutive failures; a success in between resets', () => {
    const { router, changes } = setup({ failures: 3 });
    assert.equal(router.reportFailure(B), false);
    assert.equal(router.reportFailure(B), false);
    assert.equal(router.reportSuccess(B), false);
    assert.equal(router.reportFailure(B), false);
    assert.equal(router.reportFailure(B), false);
    assert.equal(router.isAlive(B), true);
    assert.equal(changes.length, 0);
    assert.equal(router.reportFailure(B), true);
    assert.equal(router.isAlive(B), false);
    assert.deepEqual(changes, [{ type: 'eject', id: B, routing: [A, C, D], allDead: false }]);
    assert.deepEqual(router.routing, [A, C, D]);
  });

  it("moves a dead server's keys to the others and leaves every other key where it was", () => {
    const { router, route } = setup({ failures: 1 });
    const before = route();
    router.reportFailure(C);
    const after = route();
    let moved = 0;
    for (const k of KEYS) {
      if (before.get(k) === C) {
        assert.notEqual(after.get(k), C);
        moved++;
      } else {
        assert.equal(after.get(k), before.get(k), k);
      }
    }
    assert.ok(moved > 400, `moved ${moved}`);
  });

  it('offers probes after retryMs and restores the original routing on rejoin', () => {
    const { c, router, changes, route } = setup({ failures: 1, retryMs: 10_000 });
    const before = route();
    router.reportFailure(A);
    assert.deepEqual(router.dueForProbe(), []);
    c.t += 10_000;
    assert.deepEqual(router.dueForProbe(), [A]);
    assert.equal(router.claimProbe(A), true);
    assert.equal(router.claimProbe(A), false, 'one prober per window');
    // keys still avoid A until the probe succeeds
    for (const id of route().values()) assert.notEqual(id, A);
    assert.equal(router.reportSuccess(A), true);
    assert.deepEqual(route(), before);
    assert.deepEqual(
      changes.map((ch) => [ch.type, ch.id]),
      [
        ['eject', A],
        ['rejoin', A],
      ],
    );
    assert.deepEqual(changes[1]!.routing, [A, B, C, D]);
  });

  it('a failed probe keeps the server out and restarts its retry window', () => {
    const { c, router } = setup({ failures: 2, retryMs: 1_000 });
    router.reportFailure(D);
    router.reportFailure(D);
    c.t += 1_000;
    assert.equal(router.claimProbe(D), true);
    assert.equal(router.reportFailure(D), false);
    assert.equal(router.isAlive(D), false);
    c.t += 999;
    assert.deepEqual(router.dueForProbe(), []);
    c.t += 1;
    assert.deepEqual(router.dueForProbe(), [D]);
  });

  it('when every server is dead, routes over all of them so requests act as probes', () => {
    const { router, changes, route } = setup({ failures: 1 });
    const healthy = route();
    router.reportFailure(A);
    router.reportFailure(B);
    router.reportFailure(C);
    const lastAlive = route();
    for (const id of lastAlive.values()) assert.equal(id, D);
    router.reportFailure(D);
    assert.equal(changes.at(-1)?.allDead, true);
    assert.deepEqual(changes.at(-1), { type: 'eject', id: D, routing: [A, B, C, D], allDead: true });
    assert.deepEqual(route(), healthy, 'all-dead routing is the full ring');
    assert.equal(router.reportSuccess(B), true);
    assert.equal(changes.at(-1)?.allDead, false);
    for (const id of route().values()) assert.equal(id, B);
  });

  it('allFailing: the latest outcome of every server was a failure, ejected or not; told once per onset', () => {
    const { router } = setup({ failures: 3 });
    let told = 0;
    router.onAllFailing(() => told++);
    for (const id of [A, B, C]) router.reportFailure(id);
    assert.equal(router.allFailing, false);
    router.reportFailure(D);
    assert.deepEqual([router.allFailing, told], [true, 1], 'no server ejected yet, all failing');
    router.reportFailure(D);
    assert.equal(told, 1, 'told at the onset only');
    router.reportSuccess(B);
    assert.equal(router.allFailing, false);
    router.reportFailure(B);
    assert.deepEqual([router.allFailing, told], [true, 2]);
    router.setServers(SERVERS.slice(0, 2));
    assert.equal(router.allFailing, true, 'the kept servers keep their health');
    router.setServers(SERVERS);
    assert.equal(router.allFailing, false, 'added servers have not failed');
  });

  it('ignores reports about unknown servers', () => {
    const { router, changes } = setup({ failures: 1 });
    assert.equal(router.reportFailure('10.9.9.9:1'), false);
    assert.equal(router.reportSuccess('10.9.9.9:1'), false);
    assert.equal(changes.length, 0);
  });

  it('a single-server cluster always routes to its server, dead or alive, without hashing', () => {
    let built = 0;
    const router = new ClusterRouter({
      servers: [SERVERS[0]!],
      failures: 1,
      retryMs: 30_000,
      selector: (servers) => {
        built++;
        return new KetamaRing(servers);
      },
    });
    assert.equal(router.pick(utf8('x')), A);
    router.reportFailure(A);
    assert.equal(router.pick(utf8('y')), A);
    assert.equal(built, 1);
  });

  it('rebuilds through the selector factory with only live servers', () => {
    const seen: string[][] = [];
    const factory = (servers: readonly ServerSpec[]): ServerSelector => {
      seen.push(servers.map((s) => s.id));
      const ids = servers.map((s) => s.id);
      return { ids, pick: () => ids[0] };
    };
    const router = new ClusterRouter({ servers: SERVERS, failures: 1, retryMs: 30_000, selector: factory });
    router.reportFailure(A);
    assert.equal(router.pick(utf8('k')), B);
    router.reportSuccess(A);
    assert.equal(router.pick(utf8('k')), A);
    assert.deepEqual(seen, [
      [A, B, C, D],
      [B, C, D],
    ]);
  });

  it('onChange returns an unsubscribe function', () => {
    const router = new ClusterRouter({ servers: SERVERS, failures: 1, retryMs: 30_000 });
    const got: string[] = [];
    const off = router.onChange((ch) => got.push(`${ch.type}:${ch.id}`));
    router.reportFailure(A);
    off();
    router.reportSuccess(A);
    assert.deepEqual(got, [`eject:${A}`]);
  });

  it('validates its server list; an empty one routes nowhere', () => {
    assert.equal(
      new ClusterRouter({ servers: [], failures: 5, retryMs: 30_000 }).pick(Buffer.from('k')),
      undefined,
    );
    assert.throws(
      () => new ClusterRouter({ servers: [SERVERS[0]!, SERVERS[0]!], failures: 5, retryMs: 30_000 }),
      RangeError,
    );
    assert.throws(() => new ClusterRouter({ servers: SERVERS, failures: 0, retryMs: 30_000 }), RangeError);
  });

  it('uses the documented defaults (failures 5, retry 30 s)', () => {
    const router = new ClusterRouter({ servers: SERVERS, failures: 5, retryMs: 30_000 });
    assert.equal(router.health.failures, 5);
    assert.equal(router.health.retryMs, 30_000);
  });
});
