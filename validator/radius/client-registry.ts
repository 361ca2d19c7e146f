import { BlockList } from "node:net";
import { parseClientAddress, type RadiusClient } from "../operations/radius-clients.js";

interface Entry {
  client: RadiusClient;
  prefix: number;
  family: "ipv4" | "ipv6";
  range: BlockList;
}

/** An IPv4 address seen on a dual-stack socket as ::ffff:a.b.c.d is matched as a.b.c.d. */
export function plainAddress(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

/** Addresses whose client is remembered between reloads: a flood from many (spoofed) ones only refills it. */
const REMEMBERED_ADDRESSES = 4096;

/**
 * The RADIUS clients by address, reloaded from the database every `refreshMs` so that every instance
 * sees `jeton radius-client add/remove` within seconds. The most specific block of the address's family
 * wins.
 */
export class ClientRegistry {
  private entries: Entry[] = [];
  /** Each address's client (or null) as the current entries match it: one map lookup per datagram. */
  private matched = new Map<string, RadiusClient | null>();
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
        return { client, prefix, family, range };
      })
      // Most specific first; two clients on the same block: always the same one (by name), whatever the load order.
      .sort((a, b) => b.prefix - a.prefix || a.client.name.localeCompare(b.client.name));
    this.matched = new Map();
  }

  match(address: string): RadiusClient | null {
    const remembered = this.matched.get(address);
    if (remembered !== undefined) return remembered;
    const client = this.search(address);
    if (this.matched.size >= REMEMBERED_ADDRESSES) this.matched.clear();
    this.matched.set(address, client);
    return client;
  }

  private search(address: string): RadiusClient | null {
    const plain = plainAddress(address);
    const family = plain.includes(":") ? "ipv6" : "ipv4";
    // Each address against the blocks of its own family: BlockList would match an IPv4 address against
    // an IPv6 block as IPv4-mapped, so `::/0` would take in every IPv4 NAS.
    for (const entry of this.entries) {
      if (entry.family === family && entry.range.check(plain, family)) return entry.client;
    }
    return null;
  }
}
