// The memcached servers' own CPU time, read from `stats` (rusage_user + rusage_system, µs
// resolution). Read by the parent between a phase's start and end barriers: the server's CPU per
// operation shows how much work each client's protocol use costs the server, not just itself.

import { rawCommand } from '../test/support/index.js';
import type { Endpoint } from './scenarios.js';

/** CPU seconds (user + system) the servers have used since they started. */
export async function serverCpuSeconds(servers: readonly Endpoint[]): Promise<number> {
  const used = await Promise.all(
    servers.map(async (server) => {
      const stats = (await rawCommand(server, 'stats\r\n', { until: 'END\r\n' })).toString('latin1');
      return statSeconds(stats, 'rusage_user') + statSeconds(stats, 'rusage_system');
    }),
  );
  return used.reduce((sum, seconds) => sum + seconds, 0);
}

function statSeconds(stats: string, name: string): number {
  const match = new RegExp(`^STAT ${name} ([\\d.]+)\\r$`, 'm').exec(stats);
  if (!match) throw new Error(`memcached stats has no ${name}`);
  return Number(match[1]);
}
