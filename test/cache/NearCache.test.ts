// Issue 21, item 8, the rule alone (no server): a read or store fills the near cache only if its
// key was not written since it started, and remembering writes takes bounded memory.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NearCache } from '../../src/cache/NearCache.js';

const bytes = (text: string) => Buffer.from(text);
const read = (near: NearCache, key: string) => near.get(key)?.data.toString();

describe('NearCache write stamps', () => {
  it('a reply from before a write of its key is not kept; one from after is', () => {
    const near = new NearCache(100, 60_000);
    const before = near.stamp();
    near.written('k'); // remove() starts
    near.setIfUnwritten('k', before, bytes('old'), 0, 60_000);
    assert.equal(read(near, 'k'), undefined, 'the read started before the remove');
    const during = near.stamp();
    near.written('k'); // remove() landed
    near.setIfUnwritten('k', during, bytes('old'), 0, 60_000);
    assert.equal(read(near, 'k'), undefined, 'the read overlapped the remove');
    const after = near.stamp();
    near.setIfUnwritten('k', after, bytes('new'), 0, 60_000);
    assert.equal(read(near, 'k'), 'new');
  });

  it('a store keeps its own bytes unless another write of the key started meanwhile', () => {
    const near = new NearCache(100, 60_000);
    near.written('a');
    const alone = near.stamp();
    near.writeLanded('a', alone, bytes('mine'), 0, 60_000);
    assert.equal(read(near, 'a'), 'mine');
    near.written('b');
    const rivalled = near.stamp();
    near.written('b'); // a remove() of b starts before the store lands
    near.writeLanded('b', rivalled, bytes('mine'), 0, 60_000);
    assert.equal(read(near, 'b'), undefined);
  });

  it('remembers at most 4,096 written keys; a read older than a forgotten write is not kept', () => {
    const near = new NearCache(100, 60_000);
    const old = near.stamp();
    for (let i = 0; i < 10_000; i++) near.written(`w${i}`);
    assert.ok((near as unknown as { writes: Map<string, number> }).writes.size <= 4096);
    near.setIfUnwritten('w0', old, bytes('old'), 0, 60_000);
    assert.equal(read(near, 'w0'), undefined, 'w0 was forgotten: counted as written after the read started');
    near.setIfUnwritten('w0', near.stamp(), bytes('new'), 0, 60_000);
    assert.equal(read(near, 'w0'), 'new');
  });
});
