/**
 * CPU time by component, from Linux's /proc: utime + stime of every process in a
 * component's session (the network scripts start each component with setsid, so the
 * session holds whatever it spawned). Elsewhere the figures are simply absent.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux architecture node supports

interface ProcStat {
  pid: number;
  sessionId: number;
  cpuMs: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: split after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); session is field 6, utime 14, stime 15.
    const sessionId = Number(fields[3]);
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { pid, sessionId, cpuMs: (ticks * 1000) / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

export const cpuSamplingAvailable = existsSync('/proc/self/stat');

/** CPU ms used so far by each named group: a group is a set of session leaders' pids. */
export function sampleCpu(groups: ReadonlyMap<string, readonly number[]>): Map<string, number> {
  const out = new Map<string, number>();
  if (!cpuSamplingAvailable) return out;
  const bySession = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) bySession.set(stat.sessionId, (bySession.get(stat.sessionId) ?? 0) + stat.cpuMs);
  }
  for (const [name, leaders] of groups) {
    let total = 0;
    for (const pid of leaders) total += bySession.get(pid) ?? readStat(pid)?.cpuMs ?? 0;
    out.set(name, total);
  }
  return out;
}

/** Differences of two samples, per group (ms). */
export function cpuDelta(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, v] of after) out.set(name, Math.max(0, v - (before.get(name) ?? 0)));
  return out;
}

/** CPU ms the whole machine has spent busy (all processes, ours and others'), from /proc/stat. */
export function machineBusyMs(): number {
  if (!cpuSamplingAvailable) return Number.NaN;
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, _idle = 0, _iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  return ((user + nice + system + irq + softirq + steal) * 1000) / TICKS_PER_SECOND;
}
