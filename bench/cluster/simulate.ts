// One slice of the cluster simulation (no network): for the keys `key:<from>` … `key:<to - 1>`,
// the owner of each key on N servers, on N + 1 (one added) and on N − 1 (one removed), with the
// package's own selectors. Prints a JSON `SliceResult` on stdout. Run by bench/cluster/run.ts.
import { ketamaSelector } from '../../src/cluster/KetamaRing.js';
import { rendezvousSelector } from '../../src/cluster/RendezvousSelector.js';
import type { SelectorFactory, ServerSpec } from '../../src/cluster/ServerSelector.js';

export type Distribution = 'ketama' | 'rendezvous';

export interface SliceResult {
  keys: number;
  /** Keys per server on the N servers. */
  counts: number[];
  /** Keys whose owner changed when server N+1 joined, and of those, how many went elsewhere than to it. */
  movedOnAdd: number;
  movedOnAddElsewhere: number;
  /** Keys whose owner changed when one server left, and of those, how many had not been on it. */
  movedOnRemove: number;
  movedOnRemoveElsewhere: number;
  /** Time of the N-server lookups, ns. */
  lookupNs: number;
  /** Time to build the N-server selector, ms. */
  buildMs: number;
}

const SELECTORS: Record<Distribution, SelectorFactory> = {
  ketama: ketamaSelector,
  rendezvous: rendezvousSelector,
};

/** N servers named like a cloud subnet's: `10.0.<i / 256>.<i % 256>:11211`. */
export function simulatedServers(count: number): ServerSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const host = `10.0.${i >> 8}.${i & 255}`;
    return { id: `${host}:11211`, host, port: 11211 };
  });
}

export function simulate(distribution: Distribution, servers: number, from: number, to: number): SliceResult {
  const factory = SELECTORS[distribution];
  const all = simulatedServers(servers + 1);
  const base = all.slice(0, servers);
  const joined = all;
  const leaving = base[Math.floor(servers / 2)]!.id;
  const left = base.filter((s) => s.id !== leaving);
  const keys = Array.from({ length: to - from }, (_, i) => Buffer.from(`key:${from + i}`));
  const index = new Map(base.map((s, i) => [s.id, i]));

  const built = performance.now();
  const selector = factory(base);
  const buildMs = performance.now() - built;
  const owners: string[] = new Array(keys.length);
  const started = process.hrtime.bigint();
  for (let i = 0; i < keys.length; i++) owners[i] = selector.pick(keys[i]!)!;
  const lookupNs = Number(process.hrtime.bigint() - started);

  const counts = new Array<number>(servers).fill(0);
  for (const owner of owners) counts[index.get(owner)!]!++;

  const added = factory(joined);
  const newcomer = all[servers]!.id;
  let movedOnAdd = 0;
  let movedOnAddElsewhere = 0;
  for (let i = 0; i < keys.length; i++) {
    const now = added.pick(keys[i]!)!;
    if (now !== owners[i]) {
      movedOnAdd++;
      if (now !== newcomer) movedOnAddElsewhere++;
    }
  }
  const removed = factory(left);
  let movedOnRemove = 0;
  let movedOnRemoveElsewhere = 0;
  for (let i = 0; i < keys.length; i++) {
    if (removed.pick(keys[i]!)! !== owners[i]) {
      movedOnRemove++;
      if (owners[i] !== leaving) movedOnRemoveElsewhere++;
    }
  }
  return {
    keys: keys.length,
    counts,
    movedOnAdd,
    movedOnAddElsewhere,
    movedOnRemove,
    movedOnRemoveElsewhere,
    lookupNs,
    buildMs,
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const [distribution, servers, from, to] = process.argv.slice(2);
  const result = simulate(distribution as Distribution, Number(servers), Number(from), Number(to));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
