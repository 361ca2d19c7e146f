import { BlockList } from "node:net";
import { parseClientAddress, type RadiusClient } from "../operations/radius-clients.js";

interface Entry {
  client: RadiusClient;
  prefix: number;
  range: BlockList;
}

/** An IPv4 address seen on a dual-stack socket as ::ffff:a.b.c.d is matched as a.b.c.d. */
export function plainAddress(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

/**
 * The RADIUS clients by address, reloaded from the database every `refreshMs` so that every instance
 * sees `jeton radius-client add/remove` within seconds. The most specific block wins.
 */
export class ClientRegistry {
  private entries: Entry[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly load: () => Promise<RadiusClient[]>,
    private readonly onError: (error: Error) => void = () => {},
  ) {}

  async start(refreshMs = 3000): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => this.refresh().catch((error: Error) => this.onError(error)), refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async refresh(): Promise<void> {
    const clients = await this.load();
    this.entries = clients
      .map((client) => {
        const { network, prefix, family } = parseClientAddress(client.address);
        const range = new BlockList();
        range.addSubnet(network, prefix, family);
        return { client, prefix, range };
      })
      .sort((a, b) => b.prefix - a.prefix);
  }

  match(address: string): RadiusClient | null {
    const plain = plainAddress(address);
    const family = plain.includes(":") ? "ipv6" : "ipv4";
    for (const entry of this.entries) {
      if (entry.range.check(plain, family)) return entry.client;
    }
    return null;
  }
}
