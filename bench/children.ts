// Runs bench children: one process per client per scenario, or several at once (the scale
// scenario), each printing `RESULT <json>`. Children started with `barrier` stop before and after
// every measured phase; the parent releases them together and reads the servers' CPU in between.

import { type ChildProcess, spawn } from 'node:child_process';
import type { Endpoint, OpKind, PhaseResult, Task, WorkerResult } from './scenarios.js';
import { serverCpuSeconds } from './serverCpu.js';

export interface ChildOutcome {
  result?: WorkerResult;
  error?: string;
}

interface BarrierMessage {
  barrier: 'start' | 'end';
  op: OpKind;
}

/**
 * Runs `tasks` at once and waits for all of them. With `servers`, the children meet at every
 * phase barrier: all are released together, and the servers' CPU seconds over each measured phase
 * (from the last start to the last end) are returned per operation.
 */
export async function runChildren(
  cwd: string,
  worker: string,
  tasks: readonly Task[],
  timeoutMs: number,
  servers: readonly Endpoint[] | null,
  extraArgs: string[] = [],
): Promise<{ outcomes: ChildOutcome[]; serverCpu: Map<OpKind, number> }> {
  const serverCpu = new Map<OpKind, number>();
  const withBarrier = servers !== null;
  const alive = new Set<ChildProcess>();
  const waiting = new Set<ChildProcess>();
  let pending: BarrierMessage | null = null;
  let phaseStartedAt = 0;
  // Released once every live child reached the same barrier; a child that died is not waited for.
  const releaseIfAllThere = async (): Promise<void> => {
    if (pending === null || waiting.size === 0 || waiting.size < alive.size) return;
    const { barrier, op } = pending;
    pending = null;
    const released = [...waiting];
    waiting.clear();
    const now = await serverCpuSeconds(servers!).catch(() => Number.NaN);
    if (barrier === 'start') phaseStartedAt = now;
    else serverCpu.set(op, now - phaseStartedAt);
    for (const child of released) if (child.connected) child.send({ go: true });
  };
  const outcomes = await Promise.all(
    tasks.map(
      (task) =>
        new Promise<ChildOutcome>((resolve) => {
          const child = spawn(
            process.execPath,
            [
              '--expose-gc',
              ...extraArgs,
              worker,
              JSON.stringify(withBarrier ? { ...task, barrier: true } : task),
            ],
            { cwd, stdio: withBarrier ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'] },
          );
          alive.add(child);
          child.on('message', (message: BarrierMessage) => {
            pending = message;
            waiting.add(child);
            void releaseIfAllThere();
          });
          let stdout = '';
          let stderr = '';
          child.stdout!.setEncoding('utf8').on('data', (s: string) => {
            stdout += s;
          });
          child.stderr!.setEncoding('utf8').on('data', (s: string) => {
            stderr += s;
            if (stderr.length > 20_000) stderr = stderr.slice(-20_000);
          });
          const timer = setTimeout(() => {
            stderr += `\n(killed after ${timeoutMs / 1000} s)`;
            if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
          }, timeoutMs);
          child.on('close', (code, signal) => {
            clearTimeout(timer);
            alive.delete(child);
            waiting.delete(child);
            void releaseIfAllThere();
            const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
            if (code === 0 && line) resolve({ result: JSON.parse(line.slice(7)) as WorkerResult });
            else
              resolve({
                error: `exit ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' / ') || '(no output)'}`,
              });
          });
        }),
    ),
  );
  return { outcomes, serverCpu };
}

/** One result for processes that ran the same phases together: ops/s summed, costs per op averaged. */
export function mergeProcesses(outcomes: readonly ChildOutcome[]): ChildOutcome {
  const failed = outcomes.find((o) => o.result === undefined);
  if (failed) return failed;
  const results = outcomes.map((o) => o.result!);
  if (results.length === 1) return { result: results[0]! };
  const phases: PhaseResult[] = results[0]!.phases.map((first) => {
    const same = results.map((r) => r.phases.find((p) => p.op === first.op)).filter((p) => p !== undefined);
    const ops = same.reduce((sum, p) => sum + p.ops, 0);
    const merged: PhaseResult = {
      op: first.op,
      ops,
      seconds: Math.max(...same.map((p) => p.seconds)),
      opsPerSec: same.reduce((sum, p) => sum + p.opsPerSec, 0),
      rssMb: Math.max(...same.map((p) => p.rssMb)),
      elu: same.reduce((sum, p) => sum + p.elu, 0) / same.length,
      cpuUsPerOp: same.reduce((sum, p) => sum + p.cpuUsPerOp * p.ops, 0) / ops,
      errors: same.reduce((sum, p) => sum + p.errors, 0),
      processes: same.length,
    };
    const cut = same.find((p) => p.cutOff);
    if (cut) merged.cutOff = cut.cutOff;
    return merged;
  });
  return { result: { ...results[0]!, phases } };
}
