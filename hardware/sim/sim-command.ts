// `jeton sim`: a simulated Jeton token for demos and provisioner development. Starts a Jacdac
// frame hub on a TCP port (where a provisioner connects, as it would to a USB token), the real
// DeviceScript VM running the prebuilt firmware, and the simulated RTC and button; prints every
// change of the token's display until SIGINT/SIGTERM, then stops the VM (by PID), the bus and
// the hub. Pressing Enter on an interactive terminal, or sending SIGUSR1, presses the token's button.
// With --png FILE it also writes the face the firmware drew (read through the Jeton Face service)
// as a PNG at twice the display's resolution, every time the picture changes.
import { renameSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { faceServiceOf, facePng, readFace, readFaceFrame } from "./face-client.js";
import { ensureFirmwareBuilt } from "./firmware-build.js";
import { startTokenSim, type TokenSim } from "./token-sim.js";

export interface SimCommandOptions {
  port: string;
  deviceId?: string;
  clockOffset: string;
  driftPpm: string;
  workDir?: string;
  json?: boolean;
  png?: string;
}

function parseNumber(name: string, value: string, integer: boolean): number {
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new Error(`--${name}: not a number: ${value}`);
  return n;
}

/** One line per screen: the display's rows joined with " | ". */
export function displayLine(text: string): string {
  return text.split("\n").join(" | ");
}

export function registerSimCommand(program: Command): Command {
  return program
    .command("sim")
    .description(
      "run a simulated token: DeviceScript VM with the token firmware, simulated RTC and button, " +
        "on a local TCP Jacdac hub; prints every display change until Ctrl-C",
    )
    .option("--port <n>", "TCP port of the Jacdac frame hub for provisioners (0 = any free port)", "8082")
    .option("--device-id <id>", "VM device id, 16 hex digits (random by default)")
    .option("--clock-offset <seconds>", "start the simulated RTC this many seconds off the host clock", "0")
    .option("--drift-ppm <ppm>", "simulated crystal drift in parts per million (positive = fast)", "0")
    .option("--work-dir <dir>", "keep the token's flash in this directory (survives restarts)")
    .option("--json", "print JSON lines instead of text")
    .option("--png <file>", "write the token's display face to this PNG file (×2) at every change")
    .action(async (options: SimCommandOptions) => {
      const port = parseNumber("port", options.port, true);
      const clockOffsetSeconds = parseNumber("clock-offset", options.clockOffset, false);
      const driftPpm = parseNumber("drift-ppm", options.driftPpm, false);
      if (options.deviceId !== undefined && !/^[0-9a-fA-F]{16}$/.test(options.deviceId))
        throw new Error("--device-id: expected 16 hex digits");
      // jacdac-ts reports transport chatter with console.debug on stdout; keep stdout parseable
      console.debug = () => undefined;
      const emit = (event: Record<string, unknown>, text: string) => {
        process.stdout.write((options.json ? JSON.stringify({ ...event, at: new Date().toISOString() }) : text) + "\n");
      };

      // a fresh clone installed with --ignore-scripts, or a removed firmware/dist: build it now
      ensureFirmwareBuilt();
      const sim: TokenSim = await startTokenSim({
        port,
        deviceId: options.deviceId,
        workDir: options.workDir,
        clockOffsetSeconds,
        driftPpm,
      });
      emit(
        { event: "ready", port: sim.hub.port, deviceId: sim.vm.deviceId, vmPid: sim.vm.pid, startMillis: sim.startMillis },
        `sim: token VM ${sim.vm.deviceId} (pid ${sim.vm.pid}) on Jacdac TCP hub 127.0.0.1:${sim.hub.port}` +
          (process.stdin.isTTY ? "; press Enter to press the token's button, Ctrl-C to stop" : ""),
      );

      let stopping = false;
      let shown: string | undefined;
      let drawn = -1;
      const pngFile = options.png === undefined ? undefined : resolve(options.png);
      const writeFace = async () => {
        const face = faceServiceOf(sim.token.token);
        if ((await readFaceFrame(face)) === drawn) return;
        const picture = await readFace(face);
        // the XIAO's OLED lights its pixels; e-ink shows dark ink on light paper
        const png = facePng(picture, 2, picture.height <= 64);
        // a viewer never sees a half-written file
        writeFileSync(`${pngFile}.tmp`, png);
        renameSync(`${pngFile}.tmp`, pngFile!);
        drawn = picture.frame;
        emit({ event: "face", file: pngFile, frame: drawn }, `face: ${pngFile} (picture ${drawn})`);
      };
      const watch = async () => {
        while (!stopping) {
          try {
            const text = await sim.token.screenText();
            if (text !== shown) {
              shown = text;
              emit({ event: "display", text }, `display: ${displayLine(text)}`);
            }
            if (pngFile) await writeFace();
          } catch {
            // a read can time out while the VM is busy; the next poll retries
          }
          await new Promise((r) => setTimeout(r, 200));
        }
      };
      const watching = watch();

      // a person presses Enter; a script sends SIGUSR1 (e.g. to confirm a wipe or re-provision)
      const press = () => void sim.harness.button.press().then(() => emit({ event: "button" }, "button: pressed"));
      if (process.stdin.isTTY) process.stdin.on("data", press);
      process.on("SIGUSR1", press);

      await new Promise<void>((resolve) => {
        process.once("SIGINT", () => resolve());
        process.once("SIGTERM", () => resolve());
      });
      stopping = true;
      await watching;
      await sim.close();
      emit({ event: "stopped" }, "sim: stopped");
      // jacdac-ts and stdin can keep the event loop alive after teardown
      process.exit(0);
    });
}
