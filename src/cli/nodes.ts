import type { Command } from './command.js';
import { endpointsFrom, formatTable, openClient, perServer, reportRowErrors, UsageError } from './common.js';

export const nodes: Command = {
  name: 'nodes',
  summary: 'list the servers keys are spread over (with --discovery: as discovered)',
  usage: 'nodes',
  help: `One row per server with the memcached version it answers. With --discovery, the servers
are discovered from --servers/--uri first, and a line says by what, from where and which
configuration version. A server that cannot be reached shows "unreachable" (exit 3).`,
  options: {},
  async run({ positionals, values, io }) {
    if (positionals.length !== 0) throw new UsageError('nodes takes no arguments', 'nodes');
    let servers = values.discovery === undefined ? endpointsFrom(values) : [];
    if (values.discovery !== undefined) {
      const client = await openClient(values);
      try {
        servers = client.servers;
        const status = client.discoveryStatus!;
        const version = status.version === null ? '' : `, configuration version ${status.version}`;
        const count = `${servers.length} server${servers.length === 1 ? '' : 's'}`;
        io.stdout.write(`${count} discovered by ${status.mode} from ${status.from}${version}\n`);
      } finally {
        client.close();
      }
    }
    const answers = await perServer(
      values,
      servers,
      async (client) => [...(await client.version()).values()][0]!,
    );
    const rows = [['server', 'memcached'], ...answers.map((a) => [a.id, a.result ?? 'unreachable'])];
    io.stdout.write(`${formatTable(rows)}\n`);
    return reportRowErrors(io, 'nodes', answers);
  },
};
