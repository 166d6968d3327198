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

/**
 * The longest body a configuration of `servers` nodes can have: a version line (≤ 15 digits),
 * then per node a DNS name (≤ 253), an IP (≤ 45, IPv6), a port (≤ 5), two bars and a separator.
 * A reply announcing more is refused from its header, before its body is read.
 */
export function maxClusterConfigBytes(servers: number): number {
  return 32 + servers * (253 + 45 + 5 + 3);
}

/** Which command fetches the configuration. */
export type ClusterConfigCommand = 'config get cluster' | 'get AmazonElastiCache:cluster';

/** The request line, as sent. */
export function clusterConfigRequest(command: ClusterConfigCommand): string {
  return `${command}\r\n`;
}

/**
 * The outcome of reading a configuration reply so far:
 * - `incomplete`: more bytes are needed;
 * - `config`: the body (framed by `CONFIG cluster <flags> <bytes>` or, for the legacy item,
 *   `VALUE AmazonElastiCache:cluster <flags> <bytes>`, then `END`);
 * - `oversized`: the header announces a body longer than `maxBody` (`length`): not read further;
 * - `missing`: a bare `END` (the legacy item is not there: not an ElastiCache node);
 * - `refused`: `ERROR`, `CLIENT_ERROR …` or `SERVER_ERROR …` (e.g. a plain memcached asked
 *   `config get cluster`); `line` is the server's line, cut to 80 characters.
 */
export type ClusterConfigReply =
  | { readonly state: 'incomplete' }
  | { readonly state: 'config'; readonly body: string }
  | { readonly state: 'oversized'; readonly length: number }
  | { readonly state: 'missing' }
  | { readonly state: 'refused'; readonly line: string };

/** Longest header line we wait for before calling the reply garbage. */
const MAX_HEADER = 1024;

/**
 * Reads one configuration reply from the bytes received so far (pure; call again with more).
 * A body longer than `maxBody` bytes is `oversized` as soon as the header is in.
 */
export function readClusterConfigReply(
  received: Buffer,
  maxBody = Number.POSITIVE_INFINITY,
): ClusterConfigReply {
  const eol = received.indexOf('\r\n');
  if (eol < 0) {
    if (received.length > MAX_HEADER) return refused(received.toString('latin1', 0, 80));
    return { state: 'incomplete' };
  }
  const header = received.toString('latin1', 0, eol);
  if (header === 'END') return { state: 'missing' };
  const framed = /^(?:CONFIG cluster|VALUE AmazonElastiCache:cluster) \d+ (\d+)$/.exec(header);
  if (framed === null) return refused(header);
  const length = Number(framed[1]);
  if (length > maxBody) return { state: 'oversized', length };
  const start = eol + 2;
  const end = start + length;
  const trailer = '\r\nEND\r\n';
  if (received.length < end + trailer.length) return { state: 'incomplete' };
  if (received.toString('latin1', end, end + trailer.length) !== trailer)
    return refused('a configuration reply not ended by END');
  return { state: 'config', body: received.toString('utf8', start, end) };
}

function refused(line: string): ClusterConfigReply {
  return { state: 'refused', line: line.slice(0, 80) };
}
