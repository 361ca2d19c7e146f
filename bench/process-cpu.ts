import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on Linux almost everywhere). */
export const ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/**
 * CPU seconds a process has used so far, all its threads, user and system (Linux /proc), for CPU per
 * request figures that do not depend on how fast the load generator is. Resolution: one tick (10 ms).
 */
export function processCpuSeconds(pid: number): number {
  const fields = statFields(pid);
  return (Number(fields.utime) + Number(fields.stime)) / ticksPerSecond;
}

/**
 * CPU seconds used by this process's children that have ended and been waited for (a load generator run
 * with execFile, say, once its callback ran), all together.
 */
export function endedChildrenCpuSeconds(): number {
  const fields = statFields("self");
  return (Number(fields.cutime) + Number(fields.cstime)) / ticksPerSecond;
}

/** CPU seconds this process has used so far, all its threads. */
export function ownCpuSeconds(): number {
  const fields = statFields("self");
  return (Number(fields.utime) + Number(fields.stime)) / ticksPerSecond;
}

function statFields(pid: number | "self") {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may hold spaces: state is field 3 (proc(5)).
  const [utime, stime, cutime, cstime] = stat.slice(stat.lastIndexOf(")") + 2).split(" ").slice(11, 15);
  return { utime, stime, cutime, cstime };
}

/** Runs `work` and returns its result with the CPU microseconds `pids` used meanwhile, per `count` of what it did. */
export async function cpuPer<T>(pids: number[], work: () => Promise<T>, count: (result: T) => number): Promise<{ result: T; cpuMicrosEach: number }> {
  const before = pids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
  const result = await work();
  const used = pids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0) - before;
  return { result, cpuMicrosEach: Math.round((used * 1e6) / Math.max(1, count(result))) };
}
