// Reads a V8 .cpuprofile (node --cpu-prof) and ranks functions by self time. Positions in the
// esbuild bundle are mapped back to their source file through the `// src/…` module markers
// esbuild writes into bundles.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTimeEntry {
  name: string;
  where: string;
  ms: number;
  percent: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Self time grouped by origin: our source, a peer library, node internals, GC, idle. */
  groups: Array<{ group: string; ms: number; percent: number }>;
  top: SelfTimeEntry[];
}

const markerCache = new Map<string, Array<[number, string]>>();

/** [line, source path] for each `// path/file.ts` module marker of a bundle file. */
function markers(url: string): Array<[number, string]> {
  let found = markerCache.get(url);
  if (found) return found;
  found = [];
  try {
    const lines = readFileSync(fileURLToPath(url), 'utf8').split('\n');
    lines.forEach((line, i) => {
      const m = /^\/\/ ((?:src|bench|test)\/\S+\.ts)$/.exec(line);
      if (m) found!.push([i, m[1]!]);
    });
  } catch {
    // not a readable file URL
  }
  markerCache.set(url, found);
  return found;
}

function sourceOf(frame: CallFrame): string {
  const url = frame.url;
  if (url === '') return '';
  if (url.includes('/bench/.build/')) {
    let source = basename(url);
    for (const [line, path] of markers(url)) {
      if (line > frame.lineNumber) break;
      source = path;
    }
    return source;
  }
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) return url.slice(nm + 'node_modules/'.length);
  return url.replace(/^file:\/\//, '');
}

function groupOf(frame: CallFrame, source: string): string {
  const name = frame.functionName;
  if (name === '(garbage collector)') return 'GC';
  if (name === '(idle)') return 'idle (waiting for the socket)';
  if (name === '(program)') return 'V8/native (program)';
  if (source.startsWith('src/')) return 'our client (src/)';
  if (source.startsWith('bench/')) return 'bench driver';
  if (frame.url.startsWith('node:')) return 'node internals (net, streams, buffers)';
  if (frame.url.includes('node_modules/')) return 'peer library';
  return 'native / builtins';
}

export function summarizeProfile(file: string, limit = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) byId.set(node.id, node);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const entries = new Map<string, { name: string; where: string; us: number }>();
  const groups = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const source = sourceOf(frame);
    const name = frame.functionName || '(anonymous)';
    const where = source ? `${source}:${frame.lineNumber + 1}` : '';
    const key = `${name}@${source}`;
    const entry = entries.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    entries.set(key, entry);
    const group = groupOf(frame, source);
    groups.set(group, (groups.get(group) ?? 0) + us);
    total += us;
  }
  const pct = (us: number): number => (total > 0 ? (100 * us) / total : 0);
  return {
    totalMs: total / 1000,
    groups: [...groups]
      .sort((a, b) => b[1] - a[1])
      .map(([group, us]) => ({ group, ms: us / 1000, percent: pct(us) })),
    top: [...entries.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, limit)
      .map((e) => ({ name: e.name, where: e.where, ms: e.us / 1000, percent: pct(e.us) })),
  };
}

export function formatProfile(summary: ProfileSummary, title: string): string {
  const lines = [
    `### ${title}`,
    '',
    `Sampled ${summary.totalMs.toFixed(0)} ms.`,
    '',
    '| where the time went | ms | % |',
    '| --- | ---: | ---: |',
  ];
  for (const g of summary.groups) lines.push(`| ${g.group} | ${g.ms.toFixed(0)} | ${g.percent.toFixed(1)} |`);
  lines.push('', '| function (self time) | source | ms | % |', '| --- | --- | ---: | ---: |');
  for (const e of summary.top)
    lines.push(`| \`${e.name}\` | ${e.where} | ${e.ms.toFixed(1)} | ${e.percent.toFixed(1)} |`);
  return `${lines.join('\n')}\n`;
}
