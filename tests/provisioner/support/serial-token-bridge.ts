// The serial code path without hardware: a pseudo-terminal pair (socat) stands in for the token's
// USB serial port. The provisioner opens one end like /dev/ttyACM0; on the other end this
// emulator plays the board's USB bridge — the JDUSB framing jacdac-ts speaks (0xFE 0xFC frame
// 0xFE 0xFD, 0xFE escaped as 0xFE 0xF8, bytes outside frames are the device log, "processing"
// frames to the USB-bridge service switch packet forwarding on) — and relays every Jacdac frame
// to and from the VM's frame hub.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SerialPort } from "serialport";
import { FrameSplitter } from "../../../hardware/sim/frame-hub.js";

const MAGIC = 0xfe;
const LITERAL_MAGIC = 0xf8;
const FRAME_START = 0xfc;
const FRAME_END = 0xfd;
const SRV_USB_BRIDGE = 0x18f61a4a;
const FLAG_IDENTIFIER_IS_SERVICE_CLASS = 0x04;
const CMD_ENABLE_PACKETS = 0x81;
const CMD_DISABLE_PACKETS = 0x80;

export interface SerialTokenBridge {
  /** the port the provisioner opens (a symlink to /dev/pts/N) */
  readonly hostPath: string;
  /** frames relayed in each direction (to see that traffic really went through the serial path) */
  readonly counts: { toHost: number; fromHost: number };
  close(): Promise<void>;
}

export function encodeJdusb(frame: Uint8Array): Buffer {
  const out: number[] = [MAGIC, FRAME_START];
  for (const b of frame) {
    out.push(b);
    if (b === MAGIC) out.push(LITERAL_MAGIC);
  }
  out.push(MAGIC, FRAME_END);
  return Buffer.from(out);
}

/** Incremental JDUSB decoder: returns whole frames; bytes outside frames are ignored. */
export class JdusbDecoder {
  private inFrame = false;
  private wasMagic = false;
  private frame: number[] = [];

  push(chunk: Uint8Array): Buffer[] {
    const frames: Buffer[] = [];
    for (const byte of chunk) {
      if (this.wasMagic) {
        this.wasMagic = false;
        if (byte === FRAME_START) {
          this.inFrame = true;
          this.frame = [];
        } else if (byte === FRAME_END) {
          if (this.inFrame) frames.push(Buffer.from(this.frame));
          this.inFrame = false;
        } else if (byte === LITERAL_MAGIC) {
          if (this.inFrame) this.frame.push(MAGIC);
        }
        continue;
      }
      if (byte === MAGIC) this.wasMagic = true;
      else if (this.inFrame) this.frame.push(byte);
    }
    return frames;
  }
}

function startSocat(dir: string): Promise<{ child: ChildProcess; exited: Promise<void>; host: string; device: string }> {
  const host = join(dir, "token-host");
  const device = join(dir, "token-device");
  const child = spawn("socat", ["-d", "-d", `pty,raw,echo=0,link=${host}`, `pty,raw,echo=0,link=${device}`], { stdio: ["ignore", "ignore", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    let output = "";
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`socat exited with ${code}: ${output}`)));
    child.stderr!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      // socat announces both ptys, then "starting data transfer loop" once both links exist
      if (/starting data transfer loop/.test(output)) resolve({ child, exited, host, device });
    });
  });
}

function open(path: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate: 1_500_000 }, (error) => (error ? reject(error) : resolve(port)));
  });
}

export async function startSerialTokenBridge(hubPort: number): Promise<SerialTokenBridge> {
  const dir = mkdtempSync(join(tmpdir(), "jeton-pty-"));
  const socat = await startSocat(dir);
  const device = await open(socat.device);
  const hub: Socket = createConnection(hubPort, "127.0.0.1");
  hub.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    hub.once("connect", resolve);
    hub.once("error", reject);
  });
  const counts = { toHost: 0, fromHost: 0 };
  let forwarding = false;

  const splitter = new FrameSplitter();
  hub.on("data", (chunk: Buffer) => {
    for (const prefixed of splitter.push(chunk)) {
      if (!forwarding) continue;
      const frame = prefixed.subarray(prefixed[0] === 0xff ? 3 : 1);
      counts.toHost++;
      device.write(encodeJdusb(frame));
    }
  });

  const decoder = new JdusbDecoder();
  device.on("data", (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      const isBridgeCommand = frame.length >= 16 && (frame[3]! & FLAG_IDENTIFIER_IS_SERVICE_CLASS) !== 0 && frame.readUInt32LE(4) === SRV_USB_BRIDGE;
      if (isBridgeCommand) {
        const command = frame.readUInt16LE(14);
        if (command === CMD_ENABLE_PACKETS && !forwarding) {
          forwarding = true;
          device.write(Buffer.from("jeton serial bridge: packets enabled\r\n"));
        } else if (command === CMD_DISABLE_PACKETS) forwarding = false;
        continue;
      }
      counts.fromHost++;
      const prefix = frame.length < 0xff ? Buffer.from([frame.length]) : Buffer.from([0xff, frame.length & 0xff, frame.length >> 8]);
      hub.write(Buffer.concat([prefix, frame]));
    }
  });
  device.on("error", () => undefined);

  return {
    hostPath: socat.host,
    counts,
    async close() {
      hub.destroy();
      await new Promise<void>((resolve) => (device.isOpen ? device.close(() => resolve()) : resolve()));
      if (socat.child.exitCode === null) {
        process.kill(socat.child.pid!, "SIGTERM");
        await socat.exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
