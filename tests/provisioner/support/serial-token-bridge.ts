// The serial code path without hardware: a pseudo-terminal stands in for the token's USB serial
// port — a pty pair from socat (Debian's socat), or, where socat is missing, a pty held by a small
// python3 relay. The provisioner opens one end like /dev/ttyACM0; on the other end this
// emulator plays the board's USB bridge — the JDUSB framing jacdac-ts speaks (0xFE 0xFC frame
// 0xFE 0xFD, 0xFE escaped as 0xFE 0xF8, bytes outside frames are the device log, "processing"
// frames to the USB-bridge service switch packet forwarding on) — and relays every Jacdac frame
// to and from the VM's frame hub.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
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

/** The device side of the pty, whichever tool provides it. */
interface DeviceEnd {
  write(data: Buffer): void;
  onData(listener: (chunk: Buffer) => void): void;
  close(): Promise<void>;
}

const PYTHON_PTY_RELAY = `
import os, pty, select, sys, tty
master, slave = pty.openpty()
tty.setraw(slave)
os.symlink(os.ttyname(slave), sys.argv[1])
sys.stderr.write("pty ready\\n"); sys.stderr.flush()
# the slave stays open here too, so the master never reads EIO when the provisioner closes the port
while True:
    ready, _, _ = select.select([master, 0], [], [])
    if master in ready:
        data = os.read(master, 4096)
        if data: os.write(1, data)
    if 0 in ready:
        data = os.read(0, 4096)
        if not data: break
        os.write(master, data)
`;

function hasSocat(): boolean {
  if (process.env.JETON_TEST_PTY === "python3") return false; // to exercise the fallback
  return spawnSync("socat", ["-V"], { stdio: "ignore" }).status === 0;
}

/** python3 owns the pty; its stdin/stdout are the device side. */
function startPythonPty(dir: string): Promise<{ host: string; device: DeviceEnd }> {
  const host = join(dir, "token-host");
  const child = spawn("python3", ["-c", PYTHON_PTY_RELAY, host], { stdio: ["pipe", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    let output = "";
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`python3 pty relay exited with ${code}: ${output}`)));
    child.stderr!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (/pty ready/.test(output)) {
        resolve({
          host,
          device: {
            write: (data) => void child.stdin!.write(data),
            onData: (listener) => void child.stdout!.on("data", listener),
            async close() {
              if (child.exitCode === null) {
                process.kill(child.pid!, "SIGTERM");
                await exited;
              }
            },
          },
        });
      }
    });
  });
}

async function startSocatPty(dir: string): Promise<{ host: string; device: DeviceEnd }> {
  const socat = await startSocat(dir);
  const port = await open(socat.device);
  port.on("error", () => undefined);
  return {
    host: socat.host,
    device: {
      write: (data) => void port.write(data),
      onData: (listener) => void port.on("data", listener),
      async close() {
        await new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
        if (socat.child.exitCode === null) {
          process.kill(socat.child.pid!, "SIGTERM");
          await socat.exited;
        }
      },
    },
  };
}

function open(path: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate: 1_500_000 }, (error) => (error ? reject(error) : resolve(port)));
  });
}

export async function startSerialTokenBridge(hubPort: number): Promise<SerialTokenBridge> {
  const dir = mkdtempSync(join(tmpdir(), "jeton-pty-"));
  const { host, device } = hasSocat() ? await startSocatPty(dir) : await startPythonPty(dir);
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
  device.onData((chunk: Buffer) => {
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

  return {
    hostPath: host,
    counts,
    async close() {
      hub.destroy();
      await device.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
