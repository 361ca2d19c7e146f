import { readFileSync } from "node:fs";
import { ticksPerSecond } from "./process-cpu.js";

interface CpuTimes {
  steal: number;
  /** Time the machine's cores ran anything (user, nice, system, irq, softirq). */
  busy: number;
  total: number;
}

/** The machine's CPU times so far, all cores (the "cpu" line of /proc/stat, in ticks). */
function cpuTimes(): CpuTimes {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = ticks;
  return { steal: ticks[7] ?? 0, busy: user + nice + system + irq + softirq, total: ticks.reduce((sum, value) => sum + value, 0) };
}

/**
 * Share of the machine's CPU time the hypervisor gave to other guests while the bench ran (Linux "steal"):
 * on a shared virtual machine the same code measures slower when it is high, so each bench prints it next
 * to its figures.
 */
export class HostSteal {
  private readonly start = cpuTimes();

  /** Since this was created, as a fraction of all CPU time (0 when the kernel reports none). */
  share(): number {
    const now = cpuTimes();
    const total = now.total - this.start.total;
    return total > 0 ? Number(((now.steal - this.start.steal) / total).toFixed(3)) : 0;
  }

  /** CPU seconds all the machine's processes used since this was created. */
  busySeconds(): number {
    return (cpuTimes().busy - this.start.busy) / ticksPerSecond;
  }
}
