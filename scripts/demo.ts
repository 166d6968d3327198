/**
 * `npm start`: the seed example and a failover demo on three local memcached servers that this
 * script starts on free ports and stops again on exit (also on Ctrl-C).
 */
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigParams, MemcachedCache } from '../src/index.js';
import { startMemcachedCluster, stopAllMemcached } from '../test/support/memcached.js';

const say = (text: string) => console.log(text);

function ensureMemcached(): void {
  const found = spawnSync('bash', ['scripts/ensure-memcached.sh'], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (found.status !== 0) process.exit(1);
}

async function main(): Promise<void> {
  ensureMemcached();
  say('Starting 3 memcached servers on free loopback ports…');
  const servers = await startMemcachedCluster(3);
  for (const s of servers) say(`  memcached pid ${s.pid} on ${s.address}`);

  say('\n1. The seed example');
  const cache = new MemcachedCache();
  cache.configure(
    ConfigParams.fromTuples('connection.host', servers[0]!.host, 'connection.port', servers[0]!.port),
  );
  await cache.open('123');
  await cache.store('123', 'key1', 'ABC', 5000);
  const value = await cache.retrieve('123', 'key1');
  say(`  store("123", "key1", "ABC", 5000) → retrieve("123", "key1") = ${JSON.stringify(value)}`);
  await cache.close('123');

  say('\n2. One cache over three servers (ketama consistent hashing, as libmemcached)');
  const config = ConfigParams.fromTuples(
    'options.failures',
    1,
    'options.retry',
    1000,
    'options.request_timeout',
    500,
  );
  servers.forEach((s, i) => {
    config.put(`connections.${i}.host`, s.host);
    config.put(`connections.${i}.port`, s.port);
  });
  const cluster = new MemcachedCache();
  cluster.configure(config);
  await cluster.open('demo');
  const client = cluster.getClient();
  const keys = Array.from({ length: 9 }, (_, i) => `user:${i}`);
  for (const key of keys) await cluster.store('demo', key, { name: `user ${key.slice(5)}` }, 60_000);
  const byServer = new Map<string, string[]>();
  for (const key of keys)
    byServer.set(client.serverFor(key), [...(byServer.get(client.serverFor(key)) ?? []), key]);
  for (const s of servers)
    say(`  ${s.address} holds ${(byServer.get(s.address) ?? []).join(', ') || '(none)'}`);

  // The server holding the most keys: the reads below reach it, so its death is noticed (a
  // server that holds none of them, which happens with some random ports, would never be asked).
  const holding = (s: (typeof servers)[number]) => byServer.get(s.address)?.length ?? 0;
  const victim = servers.reduce((most, s) => (holding(s) > holding(most) ? s : most));
  say(`\n3. Failover: killing the server on ${victim.address} (pid ${victim.pid})`);
  await victim.kill();
  let hits = 0;
  let misses = 0;
  for (const key of keys) {
    const found = await cluster.retrieve('demo', key);
    if (found === null) misses++;
    else hits++;
  }
  say(
    `  reads go on: ${hits} keys still served, ${misses} lost with the dead server (a cache miss, not an error)`,
  );
  say(`  ${victim.address} ejected from the ring: ${!client.cluster.isAlive(victim.address)}`);
  await cluster.store('demo', 'after-failover', 'written while one server is down', 60_000);
  say(`  writes go on: "after-failover" stored on ${client.serverFor('after-failover')}`);

  say(`\n4. Restarting ${victim.address}…`);
  await victim.restart();
  const deadline = Date.now() + 5000;
  while (!client.cluster.isAlive(victim.address) && Date.now() < deadline) await sleep(100);
  say(`  rejoined the ring after the retry period: ${client.cluster.isAlive(victim.address)}`);

  await cluster.close('demo');
  say('\nStopping the servers. Done.');
}

main()
  .catch((error) => {
    console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  })
  .finally(() => stopAllMemcached());
