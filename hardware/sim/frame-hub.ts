// A Jacdac frame hub: relays length-prefixed frames between TCP clients, the way `devs devtools`
// does on port 8082 but on any port (0 = a free one the OS picks). Each frame is one length byte
// followed by the Jacdac frame; a length byte of 0xFF is followed by a 16-bit little-endian length.
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";

export interface FrameHub {
  readonly port: number;
  /** number of connected clients (VMs, test buses, provisioners) */
  clientCount(): number;
  close(): Promise<void>;
}

/** Splits a byte stream into whole prefixed frames, keeping the prefix so frames relay verbatim. */
export class FrameSplitter {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.pending.length < 1) break;
      let header = 1;
      let length = this.pending[0]!;
      if (length === 0xff) {
        if (this.pending.length < 3) break;
        header = 3;
        length = this.pending.readUInt16LE(1);
      }
      if (this.pending.length < header + length) break;
      frames.push(this.pending.subarray(0, header + length));
      this.pending = this.pending.subarray(header + length);
    }
    return frames;
  }
}

export async function startFrameHub(port = 0, host = "127.0.0.1"): Promise<FrameHub> {
  const clients = new Set<Socket>();
  const server: Server = createServer((socket) => {
    socket.setNoDelay(true);
    clients.add(socket);
    const splitter = new FrameSplitter();
    socket.on("data", (chunk: Buffer) => {
      for (const frame of splitter.push(chunk)) {
        for (const other of clients) if (other !== socket && !other.destroyed) other.write(frame);
      }
    });
    const drop = () => clients.delete(socket);
    socket.on("close", drop);
    socket.on("error", drop);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  return {
    port: actualPort,
    clientCount: () => clients.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of clients) c.destroy();
        clients.clear();
        server.close(() => resolve());
      }),
  };
}
