// Serial port listing that cannot crash the program. serialport lists ports by spawning `udevadm`;
// where it is missing (containers, minimal systems) the listing rejects, and jacdac-ts's port
// watcher would turn that into an unhandled rejection that kills the process. Every listing the
// provisioner (and jacdac-ts, through the classes below) makes goes through here.
import { existsSync } from "node:fs";
import { SerialPort } from "serialport";

export interface SerialPortInfo {
  path: string;
  manufacturer?: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
}

/** USB vendor ids of the reference boards' USB-serial chips (the ones jacdac-ts also accepts). */
export const TOKEN_VENDOR_IDS = ["303a", "2e8a", "10c4", "1a86"];

export interface PortListing {
  ports: SerialPortInfo[];
  /** why the listing failed (the caller says it and suggests --port) */
  error?: string;
}

export async function listSerialPorts(): Promise<PortListing> {
  try {
    return { ports: (await SerialPort.list()) as SerialPortInfo[] };
  } catch (error) {
    return { ports: [], error: `listing serial ports failed (${(error as Error).message}); name the port with --port` };
  }
}

/** Ports that look like a token's USB serial (known vendor id, or a Jacdac serial number). */
export function tokenCandidates(ports: SerialPortInfo[]): SerialPortInfo[] {
  return ports.filter(
    (p) => /^(PX|JD)/.test(p.serialNumber ?? "") || TOKEN_VENDOR_IDS.includes((p.vendorId ?? "").toLowerCase()),
  );
}

/** `SerialPort` whose listing never rejects (for jacdac-ts's automatic detection). */
export class GuardedSerialPort extends SerialPort {
  static override async list() {
    return (await listSerialPorts()).ports as Awaited<ReturnType<typeof SerialPort.list>>;
  }
}

/**
 * `SerialPort` that "lists" exactly one port: the path the operator named. jacdac-ts opens the
 * first listed port it recognises (a Jacdac-like serial number makes it recognised), so this is
 * how an explicit --port reaches its transport without any udev listing at all.
 */
export function explicitSerialPort(path: string): unknown {
  return class ExplicitSerialPort extends SerialPort {
    static override async list() {
      if (!existsSync(path)) return [];
      return [{ path, serialNumber: "JD-explicit-port", manufacturer: undefined, vendorId: undefined, productId: undefined, pnpId: undefined, locationId: undefined }] as unknown as Awaited<ReturnType<typeof SerialPort.list>>;
    }
  };
}
