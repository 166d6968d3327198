// Starts real twemproxy (nutcracker) processes for tests, in front of memcached servers started by
// ./memcached.ts: each on a free loopback port with a stats port of its own and a generated YAML
// config, run in the foreground (no -d) so the PID is our child's, and stopped by that PID only.
import { type ChildProcess, spawn } from 'node:child_process';
import {
  accessSync,
  constants,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './memcached.js';
import { type OwnedProcess, ProcessRegistry } from './processRegistry.js';
import { rawCommand } from './rawClient.js';

export interface TwemproxyBackend {
  host: string;
  port: number;
}

export interface TwemproxyOptions {
  /** The memcached servers behind the proxy (e.g. a `startMemcachedCluster(3)`). */
  servers: readonly TwemproxyBackend[];
  /** `distribution`, default `ketama`. */
  distribution?: 'ketama' | 'modula' | 'random';
  /** `hash`, default `fnv1a_64`. */
  hash?: string;
  /** `timeout` in ms for a backend's reply, default 1000. */
  timeoutMs?: number;
  /** `auto_eject_hosts`, default false (a dead backend answers SERVER_ERROR). */
  autoEjectHosts?: boolean;
  /** `server_failure_limit`, default 2 (used with autoEjectHosts). */
  serverFailureLimit?: number;
  /** `server_retry_timeout` in ms, default 30000 (used with autoEjectHosts). */
  serverRetryTimeoutMs?: number;
}

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 5000;
const POLL_MS = 20;
const STOP_GRACE_MS = 2000;
const START_ATTEMPTS = 8;
const BIND_FAILURE = /bind on .* failed|Address already in use/i;

/** `NUTCRACKER_BIN`, else `/usr/sbin/nutcracker`. Throws a clear error when missing. */
export function nutcrackerBinary(): string {
  const path = process.env.NUTCRACKER_BIN || '/usr/sbin/nutcracker';
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    throw new Error(
      `twemproxy binary not found at ${path}. Install it: \`sudo apt-get install nutcracker\` ` +
        '(Debian/Ubuntu; .ci/run does this), or point NUTCRACKER_BIN at the binary.',
    );
  }
}

const hasExited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

/** The YAML config of one pool named `pool`, listening on `port`. */
export function twemproxyConfig(pool: string, port: number, opts: TwemproxyOptions): string {
  if (opts.servers.length === 0) throw new Error('twemproxy needs at least one server');
  return [
    `${pool}:`,
    `  listen: ${HOST}:${port}`,
    `  hash: ${opts.hash ?? 'fnv1a_64'}`,
    `  distribution: ${opts.distribution ?? 'ketama'}`,
    `  timeout: ${opts.timeoutMs ?? 1000}`,
    '  preconnect: false',
    `  auto_eject_hosts: ${opts.autoEjectHosts ?? false}`,
    `  server_failure_limit: ${opts.serverFailureLimit ?? 2}`,
    `  server_retry_timeout: ${opts.serverRetryTimeoutMs ?? 30000}`,
    '  servers:',
    // `name` after the weight keeps ketama's points independent of the ports chosen.
    ...opts.servers.map((s, i) => `   - ${s.host}:${s.port}:1 server${i}`),
    '',
  ].join('\n');
}

/**
 * True when `pid` holds a listening TCP socket on `port`: a port answered by someone else (a
 * memcached of a neighbouring test that won the port race) is not taken for ours. Null where
 * /proc cannot tell (not Linux).
 */
function listensOn(pid: number, port: number): boolean | null {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let tables = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    tables++;
    for (const row of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const fields = row.trim().split(/\s+/);
      if (fields.length > 9 && fields[1]!.endsWith(`:${hexPort}`) && fields[3] === '0A')
        inodes.add(fields[9]!);
    }
  }
  if (tables === 0) return null;
  if (inodes.size === 0) return false;
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false; // gone
  }
  for (const fd of fds) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode !== undefined && inodes.has(inode)) return true;
    } catch {
      // closed meanwhile
    }
  }
  return false;
}

/** Where /proc cannot tell: the proxy answers `version` (forwarded to a server) on `port`. */
async function answers(port: number): Promise<boolean> {
  try {
    const reply = await rawCommand({ host: HOST, port }, 'version\r\n', { timeoutMs: 250 });
    return reply.toString('latin1').startsWith('VERSION ');
  } catch {
    return false;
  }
}

class StartError extends Error {
  constructor(
    message: string,
    readonly bindFailure: boolean,
  ) {
    super(message);
    this.name = 'StartError';
  }
}

const registry = new ProcessRegistry<TwemproxyProcess>();

export class TwemproxyProcess implements OwnedProcess {
  readonly host = HOST;
  /** Where it stays, config and log, until stopAllTwemproxy / exit. */
  readonly dir: string;
  private readonly exited: Promise<void>;

  /** @internal use startTwemproxy() */
  constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
    /** The proxy port clients connect to. */
    readonly port: number,
    /** The stats port (JSON on connect). */
    readonly statsPort: number,
    dir: string,
    /** The pool name in the config. */
    readonly pool: string,
  ) {
    this.dir = dir;
    this.exited = new Promise<void>((resolve) => {
      if (hasExited(child)) resolve();
      else child.once('exit', () => resolve());
    });
    registry.add(this);
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get ownDir(): string {
    return this.dir;
  }

  /** Target for rawCommand. */
  get target(): { host: string; port: number } {
    return { host: this.host, port: this.port };
  }

  get running(): boolean {
    return !hasExited(this.child);
  }

  get configPath(): string {
    return join(this.dir, 'nutcracker.yml');
  }

  /** What nutcracker logged so far. */
  get log(): string {
    try {
      return readFileSync(join(this.dir, 'nutcracker.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** SIGKILL and wait for the exit. */
  async kill(): Promise<void> {
    if (this.running) {
      this.child.ref();
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // raced with its exit
      }
    }
    await this.exited;
  }

  /** SIGCONT + SIGTERM, wait for the exit; SIGKILL after 2 s. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.ref();
    try {
      process.kill(this.pid, 'SIGCONT');
      process.kill(this.pid, 'SIGTERM');
    } catch {
      // raced with its exit
    }
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS);
    });
    const outcome = await Promise.race([this.exited.then(() => 'exited' as const), graceOver]);
    clearTimeout(timer);
    if (outcome === 'timeout') await this.kill();
  }
}

let started = 0;

async function startOnce(opts: TwemproxyOptions): Promise<TwemproxyProcess> {
  const port = await freePort(HOST);
  let statsPort = await freePort(HOST);
  while (statsPort === port) statsPort = await freePort(HOST);
  const dir = mkdtempSync(join(tmpdir(), 'twemproxy-'));
  const pool = `pool${process.pid}_${++started}`;
  const conf = join(dir, 'nutcracker.yml');
  const log = join(dir, 'nutcracker.log');
  writeFileSync(conf, twemproxyConfig(pool, port, opts));
  const args = ['-c', conf, '-o', log, '-s', String(statsPort), '-a', HOST];
  const child = spawn(nutcrackerBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'], detached: false });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr = (stderr + text).slice(-16 * 1024);
  });
  child.once('error', () => {}); // a spawn error surfaces as the exit below
  // A leftover proxy must not keep a test process alive; the exit handler below kills it.
  child.unref();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  const proxy = new TwemproxyProcess(child, child.pid ?? -1, port, statsPort, dir, pool);
  const describe = (): string =>
    `nutcracker ${args.join(' ')} (pid ${child.pid ?? '?'})` +
    (hasExited(child) ? ` exited with ${child.exitCode ?? child.signalCode}` : '') +
    `; log: ${proxy.log.trim().split('\n').slice(-3).join(' | ') || '(empty)'}; stderr: ${stderr.trim() || '(empty)'}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    for (;;) {
      if (hasExited(child) || child.pid === undefined) {
        await Promise.race([new Promise((resolve) => child.once('exit', resolve)), sleep(POLL_MS)]);
        throw new StartError(`twemproxy failed to start: ${describe()}`, BIND_FAILURE.test(proxy.log));
      }
      // Both ports held by our PID: it is listening (nutcracker binds before serving).
      const ours = listensOn(child.pid, port);
      if (ours === null ? await answers(port) : ours && listensOn(child.pid, statsPort)) return proxy;
      if (Date.now() > deadline)
        throw new StartError(`twemproxy did not listen within ${READY_TIMEOUT_MS} ms: ${describe()}`, false);
      await sleep(POLL_MS);
    }
  } catch (error) {
    await proxy.kill();
    registry.delete(proxy);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Starts twemproxy in front of `opts.servers`; resolves once it listens on both its ports. A port
 * taken by someone else between picking and binding is retried on fresh ports.
 */
export async function startTwemproxy(opts: TwemproxyOptions): Promise<TwemproxyProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (error) {
      if (!(error instanceof StartError && error.bindFailure) || attempt >= START_ATTEMPTS) throw error;
    }
  }
}

/** Stops every twemproxy this module started that is still running, and removes their dirs. */
export function stopAllTwemproxy(): Promise<void> {
  return registry.stopAll();
}

/** PIDs started by this module that are still alive. */
export function liveTwemproxyPids(): number[] {
  return registry.livePids();
}
