// Starts real memcached processes for tests: each on its own free loopback port (or unix socket),
// each tracked by PID. Processes are only ever signalled by the PIDs this module spawned.
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type OwnedProcess, ProcessRegistry } from './processRegistry.js';
import { rawCommand } from './rawClient.js';

export interface StartOptions {
  /** Extra memcached arguments, appended last (e.g. `['-I', '2m']`, `['-Z', ...]`, `['-Y', file]`). */
  args?: string[];
  /** Listen on a unix socket in a fresh temp dir instead of TCP. */
  unixSocket?: boolean;
  /** `-m`, default 64. */
  memoryMb?: number;
  /** `-t`, default 2. */
  threads?: number;
  /** Fixed TCP port; default: a free port picked at random (retried if another process wins the race). */
  port?: number;
  /** Loopback address to listen on (127.0.0.0/8, e.g. `127.0.0.2`); default 127.0.0.1. */
  host?: string;
}

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 5000;
const POLL_MS = 20;
const STOP_GRACE_MS = 2000;
const STDERR_LIMIT = 64 * 1024;
const START_ATTEMPTS = 8;

const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** `MEMCACHED_BIN`, else `/usr/bin/memcached`, else `memcached` on PATH. Throws a clear error when missing. */
export function memcachedBinary(): string {
  const fromEnv = process.env.MEMCACHED_BIN;
  if (fromEnv) {
    if (isExecutable(fromEnv)) return fromEnv;
    throw new Error(`MEMCACHED_BIN=${fromEnv} is not an executable file`);
  }
  if (isExecutable('/usr/bin/memcached')) return '/usr/bin/memcached';
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'memcached');
    if (isExecutable(candidate)) return candidate;
  }
  throw new Error(
    'memcached binary not found (looked at $MEMCACHED_BIN, /usr/bin/memcached and $PATH). ' +
      'Install memcached >= 1.6: `sudo apt-get install memcached` (Debian/Ubuntu), `brew install memcached` (macOS), ' +
      'or run scripts/ensure-memcached.sh; or point MEMCACHED_BIN at the binary.',
  );
}

/** A port that was free a moment ago (the OS picked it); someone may still take it before memcached binds. */
export function freePort(host = HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not read a free port'))));
    });
  });
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

const BIND_FAILURE = /failed to listen|Address already in use|bind\(\)|could not bind/i;

export interface Spawned {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<void>;
}

function spawnMemcached(args: string[]): Spawned {
  const child = spawn(memcachedBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'], detached: false });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr += text;
    if (stderr.length > STDERR_LIMIT) stderr = stderr.slice(-STDERR_LIMIT);
  });
  // Leftover servers must not keep a test process alive; the exit handler below kills them.
  child.unref();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  child.once('error', () => {}); // spawn errors surface through 'exit' / readiness
  return { child, stderr: () => stderr, exited };
}

const hasExited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

type Target = { host: string; port: number } | { socketPath: string };

/** Polls `version` until memcached answers, then checks via `stats` that it is *our* pid answering. */
async function waitReady(spawned: Spawned, target: Target, args: string[]): Promise<void> {
  const { child } = spawned;
  const describe = (): string =>
    `memcached ${args.join(' ')} (pid ${child.pid ?? '?'})` +
    (hasExited(child) ? ` exited with ${child.exitCode ?? child.signalCode}` : '') +
    `; stderr: ${spawned.stderr().trim() || '(empty)'}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (hasExited(child)) {
      // Give stderr a moment to drain so the message is useful.
      await sleep(POLL_MS);
      throw new StartError(`memcached failed to start: ${describe()}`, BIND_FAILURE.test(spawned.stderr()));
    }
    try {
      const reply = await rawCommand(target, 'version\r\n', { timeoutMs: 250 });
      if (reply.toString('latin1').startsWith('VERSION ')) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new StartError(`memcached did not answer within ${READY_TIMEOUT_MS} ms: ${describe()}`, false);
    }
    await sleep(POLL_MS);
  }
  // Another server may have won the port race and answered instead of ours.
  const stats = (await rawCommand(target, 'stats\r\n', { until: 'END\r\n', timeoutMs: 1000 })).toString(
    'latin1',
  );
  const pid = /^STAT pid (\d+)\r$/m.exec(stats)?.[1];
  if (Number(pid) !== child.pid) {
    throw new StartError(
      `another process (pid ${pid}) answers on ${'socketPath' in target ? target.socketPath : target.port}: ${describe()}`,
      true,
    );
  }
}

async function killAndWait(spawned: Spawned): Promise<void> {
  if (!hasExited(spawned.child)) {
    try {
      spawned.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  spawned.child.ref();
  await spawned.exited;
}

function buildArgs(opts: StartOptions, port: number | undefined, socketPath: string | undefined): string[] {
  const args: string[] = [];
  if (socketPath) args.push('-s', socketPath, '-a', '0700');
  else args.push('-l', opts.host ?? HOST, '-p', String(port), '-U', '0');
  args.push('-t', String(opts.threads ?? 2), '-m', String(opts.memoryMb ?? 64));
  if (typeof process.getuid === 'function' && process.getuid() === 0) args.push('-u', 'root');
  args.push(...(opts.args ?? []));
  return args;
}

const registry = new ProcessRegistry<MemcachedProcess>();

export class MemcachedProcess implements OwnedProcess {
  readonly host: string;
  /** TCP port; 0 when listening on a unix socket. */
  readonly port: number;
  readonly socketPath?: string;
  pid: number;
  /** The full argument list memcached was started with (binary excluded). */
  readonly args: string[];
  /** Temp dir holding the unix socket, removed by stopAllMemcached / at exit. */
  readonly tmpDir?: string;
  readonly ownDir: string | null;
  private spawned: Spawned;

  /** @internal use startMemcached() */
  constructor(
    spawned: Spawned,
    args: string[],
    port: number,
    socketPath?: string,
    tmpDir?: string,
    host: string = HOST,
  ) {
    this.host = host;
    this.spawned = spawned;
    this.args = args;
    this.port = port;
    this.socketPath = socketPath;
    this.tmpDir = tmpDir;
    this.ownDir = tmpDir ?? null;
    this.pid = spawned.child.pid!;
    registry.add(this);
  }

  /** `127.0.0.1:PORT`, or the socket path. */
  get address(): string {
    return this.socketPath ?? `${this.host}:${this.port}`;
  }

  /** Target for rawCommand. */
  get target(): Target {
    return this.socketPath ? { socketPath: this.socketPath } : { host: this.host, port: this.port };
  }

  get running(): boolean {
    return !hasExited(this.spawned.child);
  }

  /** What memcached wrote to stderr so far (last 64 KiB). */
  get stderr(): string {
    return this.spawned.stderr();
  }

  /** SIGSTOP: the process stays alive, its sockets stay open, nothing is answered. */
  pause(): void {
    if (this.running) process.kill(this.pid, 'SIGSTOP');
  }

  /**
   * SIGSTOP, then wait until every thread of the process is really stopped: the signal is
   * asynchronous, and on a loaded machine memcached keeps answering for a while after `pause()`
   * (measured: about half of the requests sent right after it were still answered).
   */
  async pauseAndWait(timeoutMs = 2000): Promise<void> {
    this.pause();
    const deadline = Date.now() + timeoutMs;
    while (!allThreadsStopped(this.pid)) {
      if (Date.now() > deadline)
        throw new Error(`memcached pid ${this.pid} did not stop within ${timeoutMs} ms`);
      await sleep(1);
    }
  }

  /** SIGCONT. */
  resume(): void {
    if (this.running) process.kill(this.pid, 'SIGCONT');
  }

  /** SIGKILL and wait for the exit. */
  async kill(): Promise<void> {
    await killAndWait(this.spawned);
  }

  /** SIGCONT + SIGTERM, wait for the exit; SIGKILL after 2 s. */
  async stop(): Promise<void> {
    const { child, exited } = this.spawned;
    if (hasExited(child)) return;
    child.ref();
    try {
      process.kill(this.pid, 'SIGCONT'); // a stopped process does not act on SIGTERM
      process.kill(this.pid, 'SIGTERM');
    } catch {
      // raced with its exit
    }
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS);
    });
    const outcome = await Promise.race([exited.then(() => 'exited' as const), graceOver]);
    clearTimeout(timer);
    if (outcome === 'timeout') await killAndWait(this.spawned);
  }

  /** Stops it if running, then starts it again on the same port/socket with the same args; resolves once it answers. */
  async restart(): Promise<void> {
    await this.stop();
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const spawned = spawnMemcached(this.args);
      this.spawned = spawned;
      this.pid = spawned.child.pid ?? -1;
      try {
        await waitReady(spawned, this.target, this.args);
        return;
      } catch (err) {
        await killAndWait(spawned);
        // The old socket can linger for a moment; retry binding the same port until the deadline.
        if (!(err instanceof StartError && err.bindFailure) || Date.now() > deadline) throw err;
        await sleep(50);
      }
    }
  }
}

export async function startMemcached(opts: StartOptions = {}): Promise<MemcachedProcess> {
  memcachedBinary(); // fail fast with the clear message
  if (opts.unixSocket) {
    const dir = mkdtempSync(join(tmpdir(), 'memcached-test-'));
    const socketPath = join(dir, 'memcached.sock');
    const args = buildArgs(opts, undefined, socketPath);
    const spawned = spawnMemcached(args);
    try {
      await waitReady(spawned, { socketPath }, args);
    } catch (err) {
      await killAndWait(spawned);
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    return new MemcachedProcess(spawned, args, 0, socketPath, dir);
  }
  let lastError: unknown;
  const attempts = opts.port === undefined ? START_ATTEMPTS : 1;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const host = opts.host ?? HOST;
    const port = opts.port ?? (await freePort(host));
    const args = buildArgs(opts, port, undefined);
    const spawned = spawnMemcached(args);
    try {
      await waitReady(spawned, { host, port }, args);
      return new MemcachedProcess(spawned, args, port, undefined, undefined, host);
    } catch (err) {
      await killAndWait(spawned);
      lastError = err;
      if (!(err instanceof StartError && err.bindFailure)) throw err;
    }
  }
  throw lastError;
}

/** Starts n servers at once (each on its own port). If one fails, the others are stopped. */
export async function startMemcachedCluster(n: number, opts: StartOptions = {}): Promise<MemcachedProcess[]> {
  if (n > 1 && opts.port !== undefined)
    throw new Error('startMemcachedCluster: opts.port cannot be shared by n > 1 servers');
  const results = await Promise.allSettled(Array.from({ length: n }, () => startMemcached(opts)));
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((p) => p.stop()));
    throw failed.reason;
  }
  return started;
}

/** Stops every process this module started that is still running, and removes their temp dirs. */
export function stopAllMemcached(): Promise<void> {
  return registry.stopAll();
}

/** PIDs started by this module that are still alive. */
export function livePids(): number[] {
  return registry.livePids();
}

/** True when every thread of `pid` is in the stopped state (or /proc cannot tell). */
function allThreadsStopped(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/task`).every((task) => {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
      const state = stat.charAt(stat.lastIndexOf(')') + 2); // "pid (comm) STATE ..."
      return state === 'T' || state === 't';
    });
  } catch {
    return true; // no /proc (not Linux) or the process is gone: nothing better to wait for
  }
}
