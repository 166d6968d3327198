import type { Command } from './command.js';
import { endpointsFrom, formatTable, openClient, perServer, reportRowErrors, UsageError } from './common.js';
import { jsonError, writeJson } from './json.js';

export const nodes: Command = {
  name: 'nodes',
  summary: 'list the servers keys are spread over (with --discovery: as discovered)',
  usage: 'nodes',
  help: `One row per server with the memcached version it answers. With --discovery, the servers
are discovered from --servers/--uri first, and a line says by what, from where and which
configuration version. A server that cannot be reached shows "unreachable" (exit 3).
With --json: [{"server","version"}, …] (unreachable: {"server","error":{"code","message"}});
with --discovery each row also has "discovery":{"mode","from","configVersion"}.`,
  options: {},
  async run({ positionals, values, io }) {
    if (positionals.length !== 0) throw new UsageError('nodes takes no arguments', 'nodes');
    let servers = values.discovery === undefined ? endpointsFrom(values) : [];
    let discovery: { mode: string; from: string | null; configVersion: number | null } | null = null;
    if (values.discovery !== undefined) {
      const client = await openClient(values);
      try {
        servers = client.servers;
        const status = client.discoveryStatus!;
        discovery = { mode: status.mode, from: status.from, configVersion: status.version };
        const version = status.version === null ? '' : `, configuration version ${status.version}`;
        const count = `${servers.length} server${servers.length === 1 ? '' : 's'}`;
        if (!values.json)
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
    if (values.json) {
      writeJson(
        io,
        answers.map((a) => ({
          server: a.id,
          ...(a.result === null ? { error: jsonError(a.error) } : { version: a.result }),
          ...(discovery === null ? {} : { discovery }),
        })),
      );
      return reportRowErrors(io, 'nodes', answers, true);
    }
    const rows = [['server', 'memcached'], ...answers.map((a) => [a.id, a.result ?? 'unreachable'])];
    io.stdout.write(`${formatTable(rows)}\n`);
    return reportRowErrors(io, 'nodes', answers);
  },
};
