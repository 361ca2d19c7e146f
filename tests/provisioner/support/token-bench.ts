// A workbench for batch tests: one frame hub with the simulated RTC and button (the harness), where
// VM tokens are "plugged in" (a fresh VM with empty flash) and "unplugged" (stopped by PID) one after
// another, as an operator does with real tokens on a USB port.
import { rmSync } from "node:fs";
import { startFrameHub, type FrameHub } from "../../../hardware/sim/frame-hub.js";
import { startHarnessBus, type HarnessBus } from "../../../hardware/sim/harness-bus.js";
import { waitForToken, type TokenClient } from "../../../common/token-service/token-client.js";
import { newVmWorkDir, startVm, type VmProcess } from "../../../hardware/sim/vm-process.js";

export interface PluggedToken {
  vm: VmProcess;
  token: TokenClient;
  unplug(): Promise<void>;
}

export interface TokenBench {
  readonly hub: FrameHub;
  readonly harness: HarnessBus;
  plug(): Promise<PluggedToken>;
  close(): Promise<void>;
}

export async function startTokenBench(): Promise<TokenBench> {
  const hub = await startFrameHub();
  const harness = await startHarnessBus({ hubPort: hub.port });
  const plugged = new Set<PluggedToken>();
  return {
    hub,
    harness,
    async plug() {
      const workDir = newVmWorkDir();
      const exclude = harness.bus.services().map((s) => s.device.deviceId);
      const vm = startVm({ hubPort: hub.port, workDir });
      let token: TokenClient;
      try {
        token = await Promise.race([
          waitForToken(harness.bus, { timeoutMs: 30_000, excludeDeviceIds: exclude }),
          vm.exited.then((code) => Promise.reject(new Error(`VM exited with ${code}:\n${vm.logTail().join("\n")}`))),
        ]);
      } catch (error) {
        await vm.stop();
        rmSync(workDir, { recursive: true, force: true });
        throw error;
      }
      const handle: PluggedToken = {
        vm,
        token,
        async unplug() {
          plugged.delete(handle);
          await vm.stop();
          rmSync(workDir, { recursive: true, force: true });
        },
      };
      plugged.add(handle);
      return handle;
    },
    async close() {
      for (const p of [...plugged]) await p.unplug();
      await harness.close();
      await hub.close();
    },
  };
}
