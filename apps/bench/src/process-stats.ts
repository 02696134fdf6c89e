import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Resident memory of a process in bytes, from `/proc/<pid>/status` (VmRSS): every thread of
 * the process counts, so a server's pool threads are included. `undefined` off Linux.
 *
 * @example
 * const before = residentBytes(server.pid);
 */
export function residentBytes(pid: number, proc = '/proc'): number | undefined {
  try {
    const status = readFileSync(`${proc}/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Threads of a process, from `/proc/<pid>/status`.
 *
 * @example
 * threadCount(server.pid); // 11: main, libuv, V8 helpers and the pool's threads
 */
export function threadCount(pid: number, proc = '/proc'): number | undefined {
  try {
    const match = /^Threads:\s+(\d+)/m.exec(readFileSync(`${proc}/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

let ticksPerSecond: number | undefined;

/** The kernel's clock ticks per second (`getconf CLK_TCK`), 100 on every common Linux. */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      ticksPerSecond = 100;
    }
    if (!Number.isFinite(ticksPerSecond) || ticksPerSecond <= 0) ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

/**
 * CPU time a process has used so far (user + system, all threads), in seconds, from
 * `/proc/<pid>/stat`. The resolution is one clock tick (10 ms).
 *
 * @example
 * const before = cpuSeconds(pid);
 * await sleep(10_000);
 * const share = (cpuSeconds(pid) - before) / 10; // fraction of one core
 */
export function cpuSeconds(pid: number, proc = '/proc'): number | undefined {
  try {
    const stat = readFileSync(`${proc}/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields are counted after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line; the third field starts this slice.
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return (utime + stime) / clockTicks();
  } catch {
    return undefined;
  }
}

/**
 * CPU time per operation in microseconds, to 0.1 µs, from two {@link cpuSeconds} readings
 * around a run; `null` when either reading failed or nothing was served.
 *
 * @example
 * const before = cpuSeconds(pid);
 * await run();
 * cpuMicrosPerOp(before, cpuSeconds(pid), served); // e.g. 8.1
 */
export function cpuMicrosPerOp(
  before: number | undefined,
  after: number | undefined,
  ops: number,
): number | null {
  if (before === undefined || after === undefined || ops === 0) return null;
  return Math.round(((after - before) * 1e6 * 10) / ops) / 10;
}
