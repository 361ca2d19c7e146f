// One simulated token, end to end: a frame hub on a free port, the harness bus with the simulated
// RTC and button, and the real DeviceScript VM running the prebuilt firmware. Tests and
// `jeton sim` use this; `close()` stops the VM by PID, closes the bus and the hub, and removes
// the VM's working directory unless the caller supplied it.
import { rmSync } from "node:fs";
import { startFrameHub, type FrameHub } from "./frame-hub.js";
import { startHarnessBus, type HarnessBus } from "./harness-bus.js";
import { waitForRestartOrGone, waitForToken, type TokenClient } from "../../common/token-service/token-client.js";
import { newVmWorkDir, startVm, type VmProcess } from "./vm-process.js";

export interface TokenSimOptions {
  /** hub port; 0 (default) picks a free one */
  port?: number;
  /** VM device id (16 hex digits); random by default */
  deviceId?: string;
  /** VM working directory (flash); a fresh temporary one by default, removed on close */
  workDir?: string;
  /** firmware image; defaults to firmware/dist/jeton.devs */
  image?: string;
  /** simulated RTC start time (UTC Unix seconds); defaults to the host time + clockOffsetSeconds */
  rtcStartTime?: number;
  clockOffsetSeconds?: number;
  driftPpm?: number;
  withoutRtc?: boolean;
  /** how long to wait for the token service to be announced */
  startTimeoutMs?: number;
  onVmLog?: (line: string) => void;
}

export interface TokenSim {
  readonly hub: FrameHub;
  readonly harness: HarnessBus;
  readonly vm: VmProcess;
  readonly token: TokenClient;
  /** milliseconds from VM spawn to token service announced */
  readonly startMillis: number;
  /**
   * Stops the VM and starts a new one on the same flash and device id (a reboot); `whileOff` runs
   * in between, e.g. to let months pass for the RTC while the token is off.
   */
  reboot(whileOff?: () => void): Promise<TokenClient>;
  close(): Promise<void>;
}

export async function startTokenSim(options: TokenSimOptions = {}): Promise<TokenSim> {
  const hub = await startFrameHub(options.port ?? 0);
  const ownsWorkDir = options.workDir === undefined;
  const workDir = options.workDir ?? newVmWorkDir();
  let harness: HarnessBus | undefined;
  let vm: VmProcess | undefined;
  try {
    const start = options.rtcStartTime ?? Date.now() / 1000 + (options.clockOffsetSeconds ?? 0);
    harness = await startHarnessBus({ hubPort: hub.port, rtcStartTime: start, withoutRtc: options.withoutRtc });
    if (options.driftPpm) harness.rtc?.setDriftPpm(options.driftPpm);
    const timeoutMs = options.startTimeoutMs ?? 30_000;
    /**
     * Starts a VM on the shared flash. `ready` resolves when the old incarnation of the token (if
     * any) can no longer be mistaken for the new one; then the token service is awaited.
     */
    const launch = async (deviceId: string | undefined, ready: Promise<void>, exclude: string[]) => {
      const started = Date.now();
      const proc = startVm({
        hubPort: hub.port,
        image: options.image,
        workDir,
        deviceId,
        onLog: options.onVmLog,
      });
      try {
        const token = await Promise.race([
          ready.then(() => waitForToken(harness!.bus, { timeoutMs, excludeDeviceIds: exclude })),
          proc.exited.then((code) => {
            throw new Error(`VM exited with ${code} before announcing the token:\n${proc.logTail().join("\n")}`);
          }),
        ]);
        return { proc, token, millis: Date.now() - started };
      } catch (e) {
        await proc.stop();
        throw e;
      }
    };
    let current = await launch(
      options.deviceId,
      Promise.resolve(),
      harness.bus.services().map((s) => s.device.deviceId),
    );
    vm = current.proc;
    const sim: TokenSim = {
      hub,
      harness,
      get vm() {
        return current.proc;
      },
      get token() {
        return current.token;
      },
      get startMillis() {
        return current.millis;
      },
      async reboot(whileOff?: () => void) {
        const id = current.proc.deviceId;
        const serverId = current.token.deviceId;
        // Same VM device id => same server device id. The bus either notices the restart (lower
        // restart counter in the new announcement) or drops the silent old device first; listen
        // before stopping so neither event is missed.
        const replaced = waitForRestartOrGone(harness!.bus, serverId, timeoutMs);
        await current.proc.stop();
        whileOff?.();
        current = await launch(id, replaced, []);
        return current.token;
      },
      async close() {
        await current.proc.stop();
        await harness!.close();
        await hub.close();
        if (ownsWorkDir) rmSync(workDir, { recursive: true, force: true });
      },
    };
    return sim;
  } catch (e) {
    await vm?.stop();
    await harness?.close();
    await hub.close();
    if (ownsWorkDir) rmSync(workDir, { recursive: true, force: true });
    throw e;
  }
}
