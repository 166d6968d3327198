// The processes the test support starts (memcached, twemproxy), tracked in one place: stopped by
// PID on request, and killed by PID whatever way this test process ends, so none outlives it.
import { rmSync } from 'node:fs';

/** A child process the test support owns. */
export interface OwnedProcess {
  readonly pid: number;
  readonly running: boolean;
  /** A temp dir of its own (config, unix socket), removed with it; null when it has none. */
  readonly ownDir: string | null;
  stop(): Promise<void>;
}

/** The processes of one kind (one module's), for its `stopAll…` and `live…Pids`. */
export class ProcessRegistry<P extends OwnedProcess> {
  private readonly processes = new Set<P>();

  constructor() {
    registries.add(this);
  }

  add(process: P): void {
    this.processes.add(process);
  }

  delete(process: P): void {
    this.processes.delete(process);
  }

  /** Stops every process still registered and removes their dirs. */
  async stopAll(): Promise<void> {
    const all = [...this.processes];
    await Promise.all(all.map((p) => p.stop()));
    for (const p of all) {
      removeDir(p);
      this.processes.delete(p);
    }
  }

  /** PIDs registered here that are still alive. */
  livePids(): number[] {
    return [...this.processes].filter((p) => p.running).map((p) => p.pid);
  }

  /** Kills every live process with SIGKILL, synchronously (exit and signal cleanup). */
  killAllSync(): void {
    for (const p of this.processes) {
      if (p.running) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      removeDir(p);
    }
  }
}

const registries = new Set<ProcessRegistry<OwnedProcess>>();

function removeDir(p: OwnedProcess): void {
  if (p.ownDir === null) return;
  try {
    rmSync(p.ownDir, { recursive: true, force: true });
  } catch {
    // best effort
  }
}

function killAllSync(): void {
  for (const registry of registries) registry.killAllSync();
}

process.on('exit', killAllSync);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  const onSignal = (): void => {
    killAllSync();
    // If nobody else handles this signal, behave as the default would: die by it.
    if (process.listeners(signal).length === 1) {
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    }
  };
  process.on(signal, onSignal);
}
