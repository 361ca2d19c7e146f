// A jacdac-ts bus to wherever the token is, and the tokens on it. Transport traps handled here:
// jacdac-ts's socket transport never settles when the hub refuses the connection (so the hub is
// probed first), its serial transport lists ports through udev (guarded), and its timers keep Node
// alive after disconnect (so close() disposes the bus; the CLI still exits explicitly).
import { existsSync, readFileSync } from "node:fs";
import { createConnection } from "node:net";
import { firmwareServicesJson } from "../common/token-service/devs-cli.js";
import { jacdac, type JDBus } from "../common/token-service/jacdac.js";
import { TokenClient, waitForToken } from "../common/token-service/token-client.js";
import { SRV_JETON_TOKEN } from "../common/token-service/token-protocol.js";
import { CommandFailure } from "../common/failure.js";
import { provisionerExitCodes } from "./exit-codes.js";
import { explicitSerialPort, GuardedSerialPort, listSerialPorts } from "./serial-ports.js";
import { describeTarget, type TokenTarget } from "./token-target.js";

export interface TokenBus {
  readonly bus: JDBus;
  readonly target: TokenTarget;
  close(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 5_000;

function probeTcp(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(port, host);
    const timer = setTimeout(() => socket.destroy(new Error("timed out")), CONNECT_TIMEOUT_MS);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** The token service descriptions, when the firmware has been built (names in diagnostics only). */
function serviceSpecs(): unknown[] | undefined {
  try {
    const file = firmwareServicesJson();
    return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as unknown[]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * jacdac-ts's JDBus broadcasts the host's *local* time to every RealTimeClock service each time a
 * device hosting one announces itself (JDBus.handleRealTimeClockSync). A provisioner must never set
 * a clock without authentication: in the VM that broadcast would jump the simulated RTC (and the
 * token would rightly latch a clock-integrity loss). Drop that listener from our bus.
 */
export function disableClockBroadcast(bus: JDBus): void {
  const listeners = (bus as unknown as { listeners: Record<string, { handler: (...args: unknown[]) => void }[]> }).listeners;
  for (const { handler } of [...(listeners[jacdac.DEVICE_ANNOUNCE] ?? [])]) {
    if (handler.name === "bound handleRealTimeClockSync") bus.off(jacdac.DEVICE_ANNOUNCE, handler);
  }
}

export async function openTokenBus(target: TokenTarget): Promise<TokenBus> {
  if (target.kind === "serial" && !target.path) {
    // without a working port listing automatic detection can never find a token: say so now
    const listing = await listSerialPorts();
    if (listing.error) throw new CommandFailure(`cannot detect tokens automatically: ${listing.error}`, provisionerExitCodes.noToken);
  }
  if (target.kind === "tcp") {
    try {
      await probeTcp(target.host, target.port);
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error as Error).message;
      throw new CommandFailure(`no token hub at ${describeTarget(target)} (${code})`, provisionerExitCodes.noToken);
    }
  }
  const transport =
    target.kind === "tcp"
      ? jacdac.createNodeSocketTransport(target.port, target.host)
      : jacdac.createNodeWebSerialTransport(target.path ? explicitSerialPort(target.path) : GuardedSerialPort);
  const services = serviceSpecs();
  const bus = new jacdac.JDBus([transport], { client: false, disableRoleManager: true, ...(services && { services }) } as never);
  disableClockBroadcast(bus);
  const close = async () => {
    await bus.disconnect().catch(() => undefined);
    await bus.dispose();
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      bus.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("timed out")), CONNECT_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    await close();
    throw new CommandFailure(`cannot open ${describeTarget(target)}: ${(error as Error).message}`, provisionerExitCodes.noToken);
  } finally {
    clearTimeout(timer);
  }
  return { bus, target, close };
}

/** Waits (event driven) for a token on the bus; fails with a message naming where it looked. */
export async function waitForOneToken(
  tokenBus: TokenBus,
  options: { timeoutMs: number; excludeDeviceIds?: string[] },
): Promise<TokenClient> {
  try {
    return await waitForToken(tokenBus.bus, options);
  } catch {
    const where = describeTarget(tokenBus.target);
    const hint = tokenBus.target.kind === "serial" && !tokenBus.target.path ? " (is it plugged in? name the port with --port)" : "";
    throw new CommandFailure(`no token found on ${where} within ${Math.round(options.timeoutMs / 1000)} s${hint}`, provisionerExitCodes.noToken);
  }
}

/** Every token currently announced on the bus (after waiting `settleMs` for announcements). */
export async function tokensOnBus(tokenBus: TokenBus, settleMs: number): Promise<TokenClient[]> {
  const bus = tokenBus.bus;
  await new Promise<void>((resolve) => {
    // Announcements repeat every ~500 ms: once a token is seen, one more round finds its peers.
    const done = setTimeout(resolve, settleMs);
    const onAnnounce = () => {
      if (bus.services({ serviceClass: SRV_JETON_TOKEN }).length === 0) return;
      bus.off(jacdac.DEVICE_ANNOUNCE, onAnnounce);
      clearTimeout(done);
      setTimeout(resolve, Math.min(settleMs, 1_200));
    };
    bus.on(jacdac.DEVICE_ANNOUNCE, onAnnounce);
  });
  return bus.services({ serviceClass: SRV_JETON_TOKEN }).map((token) => {
    const screen = token.device.services({ serviceClass: jacdac.SRV_CHARACTER_SCREEN })[0];
    return new TokenClient(token, screen);
  });
}
