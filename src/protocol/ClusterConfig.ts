/**
 * The cluster configuration AWS ElastiCache (and Google Memorystore for Memcached) serve for
 * auto-discovery, from `config get cluster` or, on engines before 1.4.14, the item
 * `AmazonElastiCache:cluster`. The body is
 *
 *     <version>\n<host>|<ip>|<port> <host>|<ip>|<port> …\n
 *
 * (the version line ends in a bare LF; `ip` may be empty, and then the host is the address).
 * Pure parsing, no I/O: the discovery poller decides what to do with a version.
 */

export interface ClusterNode {
  /** The node's DNS name. */
  readonly host: string;
  /** Its IP, or the host when the configuration gives none. */
  readonly address: string;
  readonly port: number;
}

export interface ClusterConfig {
  /** Increases with every change of the cluster; apply only a higher one than the last applied. */
  readonly version: number;
  readonly nodes: readonly ClusterNode[];
}

/** Parses a cluster configuration body; throws a plain Error saying what is wrong (no data echoed beyond 80 chars). */
export function parseClusterConfig(body: string): ClusterConfig {
  const text = body.replace(/\r\n/g, '\n').trim();
  const newline = text.indexOf('\n');
  const versionText = (newline < 0 ? text : text.slice(0, newline)).trim();
  if (!/^\d{1,15}$/.test(versionText)) {
    throw new Error(
      `cluster configuration: the first line must be a version number, got '${versionText.slice(0, 80)}'`,
    );
  }
  const list = newline < 0 ? '' : text.slice(newline + 1).trim();
  const nodes: ClusterNode[] = [];
  for (const entry of list === '' ? [] : list.split(/\s+/)) {
    const parts = entry.split('|');
    const [host = '', ip = '', portText = ''] = parts;
    const port = Number(portText);
    if (parts.length !== 3 || host === '' || !/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) {
      throw new Error(`cluster configuration: a node must be host|ip|port, got '${entry.slice(0, 80)}'`);
    }
    nodes.push({ host, address: ip === '' ? host : ip, port });
  }
  return { version: Number(versionText), nodes };
}
