// Helpers for the TLS and auth suites: a memcached started with `-Z` or `-Y` does not answer the
// plain, unauthenticated `version` that test/support's readiness probe sends, so these servers are
// spawned here, tracked by PID, probed over TLS / after authenticating, and killed by PID.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tlsConnect } from 'node:tls';
import { freePort, memcachedBinary } from '../support/index.js';

export const HOST = '127.0.0.1';

/** What `memcached -h` says about TLS (`-Z`) and ASCII auth (`-Y`) support in this build. */
export function memcachedFeatures(): { tls: boolean; auth: boolean } {
  let help = '';
  try {
    help = execFileSync(memcachedBinary(), ['-h'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    help = String((error as { stdout?: string }).stdout ?? '');
  }
  return { tls: /--enable-ssl/.test(help) && /ssl_chain_cert/.test(help), auth: /--auth-file/.test(help) };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface SecureServer {
  port: number;
  pid: number;
  stderr: () => string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) {
    try {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

export interface ProbeOptions {
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
  auth?: { username: string; password: string };
}

/** Sends `version` (after `set _auth` when auth is on) over TCP or TLS; resolves the reply text. */
function probe(port: number, options: ProbeOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    let socket: Socket;
    let text = '';
    const payload = `${options.auth ? `set _auth 0 0 ${Buffer.byteLength(`${options.auth.username} ${options.auth.password}`)}\r\n${options.auth.username} ${options.auth.password}\r\n` : ''}version\r\n`;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('probe timed out'));
    }, 500);
    const send = (): void => {
      socket.write(payload);
    };
    if (options.tls) {
      socket = tlsConnect({ host: HOST, port, ...options.tls }, send);
    } else {
      socket = netConnect({ host: HOST, port }, send);
    }
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (/VERSION [^\r]*\r\n$/.test(text) || /ERROR[^\r]*\r\n$/.test(text)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}

/** Starts memcached with `args` on a free loopback port and waits until `probeWith` gets a VERSION. */
export async function startSecureMemcached(args: string[], probeWith: ProbeOptions): Promise<SecureServer> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const all = ['-l', HOST, '-p', String(port), '-U', '0', '-t', '2', '-m', '16'];
    if (typeof process.getuid === 'function' && process.getuid() === 0) all.push('-u', 'root');
    all.push(...args);
    const child = spawn(memcachedBinary(), all, { stdio: ['ignore', 'ignore', 'pipe'] });
    live.add(child);
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      stderr += text;
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      live.delete(child);
    };
    const deadline = Date.now() + 5000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      try {
        const reply = await probe(port, probeWith);
        if (reply.includes('VERSION ')) return { port, pid: child.pid!, stderr: () => stderr, stop };
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) break;
      await sleep(20);
    }
    await stop();
    if (attempt >= 3 || !/bind|in use|listen/i.test(stderr)) {
      throw new Error(`memcached ${all.join(' ')} did not become ready: ${stderr.trim() || '(no stderr)'}`);
    }
  }
}

export interface Pki {
  dir: string;
  caCrt: string;
  serverCrt: string;
  serverKey: string;
  clientCrt: string;
  clientKey: string;
  /** A second, unrelated CA and a server certificate it signed (for the "wrong CA" tests). */
  otherCaCrt: string;
  otherServerCrt: string;
  otherServerKey: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
  ]);
}

function makeLeaf(dir: string, ca: string, name: string, ext: string): void {
  openssl(dir, [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${name}`,
  ]);
  writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  ]);
}

/** A CA, a server certificate for 127.0.0.1, a client certificate, and a second CA with its own server cert. */
export function generatePki(): Pki {
  const dir = tempDir('memcached-pki-');
  makeCa(dir, 'test-ca');
  makeLeaf(dir, 'test-ca', 'server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth');
  makeLeaf(dir, 'test-ca', 'client', 'extendedKeyUsage=clientAuth');
  makeCa(dir, 'other-ca');
  makeLeaf(dir, 'other-ca', 'other-server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth');
  const p = (name: string): string => join(dir, name);
  return {
    dir,
    caCrt: p('test-ca.crt'),
    serverCrt: p('server.crt'),
    serverKey: p('server.key'),
    clientCrt: p('client.crt'),
    clientKey: p('client.key'),
    otherCaCrt: p('other-ca.crt'),
    otherServerCrt: p('other-server.crt'),
    otherServerKey: p('other-server.key'),
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
