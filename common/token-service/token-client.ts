// Host-side client of a Jeton token over any jacdac-ts bus (TCP hub for the VM, serial for a
// board): commands with their result reports, register reads that always ask the device (never a
// cached value), and the CharacterScreen text, i.e. exactly what the token shows.
import { jacdac, type JDBus, type JDService } from "./jacdac.js";
import {
  SRV_JETON_TOKEN,
  TokenAlgorithm,
  TokenCommand,
  TokenCommandFormat,
  TokenRegister,
  type TokenAlgorithmName,
} from "./token-protocol.js";

/** Jacdac CharacterScreen `message` register. */
const REG_SCREEN_MESSAGE = 0x02;
const CMD_GET_REGISTER = 0x1000;

export interface ProvisionRequest {
  time: number;
  algorithm: TokenAlgorithmName | number;
  serial: string;
  seed: Uint8Array;
}

export interface SetTimeRequest {
  time: number;
  counter: number;
  mac: Uint8Array;
}

/** Long enough for a person to press the button during a confirmation (10 s on the token). */
export const CONFIRMATION_TIMEOUT_MS = 15_000;
const COMMAND_TIMEOUT_MS = 3_000;

export class TokenClient {
  constructor(
    readonly token: JDService,
    readonly screen: JDService | undefined,
  ) {}

  /** the Jacdac device id of the firmware's server device */
  get deviceId(): string {
    return this.token.device.deviceId;
  }

  private async command(cmd: number, fmt: string, values: unknown[], timeoutMs: number): Promise<number> {
    const pkt = fmt ? jacdac.Packet.jdpacked(cmd, fmt, values as never) : jacdac.Packet.onlyHeader(cmd);
    const resp = await this.token.sendCmdAwaitResponseAsync(pkt, timeoutMs);
    if (!resp) throw new Error(`token did not answer command 0x${cmd.toString(16)} within ${timeoutMs} ms`);
    const [result] = resp.jdunpack<[number]>("u8");
    return result;
  }

  /** Result code (see TokenResult). Re-provisioning waits for the button: allow the long timeout. */
  provision(req: ProvisionRequest, timeoutMs = CONFIRMATION_TIMEOUT_MS): Promise<number> {
    const algorithm = typeof req.algorithm === "number" ? req.algorithm : TokenAlgorithm[req.algorithm];
    return this.command(
      TokenCommand.Provision,
      TokenCommandFormat.Provision,
      [req.time, algorithm, req.serial, req.seed],
      timeoutMs,
    );
  }

  wipe(timeoutMs = CONFIRMATION_TIMEOUT_MS): Promise<number> {
    return this.command(TokenCommand.Wipe, "", [], timeoutMs);
  }

  setTime(req: SetTimeRequest, timeoutMs = COMMAND_TIMEOUT_MS): Promise<number> {
    return this.command(TokenCommand.SetTime, TokenCommandFormat.SetTime, [req.time, req.counter, req.mac], timeoutMs);
  }

  /**
   * Sets the time and the clock trim together (`trimPpb` positive: the crystal runs fast, the token slows
   * its clock). A backward correction waits for the button on the token, hence the confirmation timeout.
   */
  setTimeTrim(time: number, counter: number, trimPpb: number, mac: Uint8Array, timeoutMs = CONFIRMATION_TIMEOUT_MS): Promise<number> {
    return this.command(TokenCommand.SetTimeTrim, TokenCommandFormat.SetTimeTrim, [time, counter, trimPpb, mac], timeoutMs);
  }

  /** Reads a register straight from the device (a GET round trip, never a cached value). */
  async readRegister<T extends unknown[]>(
    service: JDService,
    register: number,
    fmt: string,
    timeoutMs = COMMAND_TIMEOUT_MS,
  ): Promise<T> {
    const resp = await service.sendCmdAwaitResponseAsync(
      jacdac.Packet.onlyHeader(CMD_GET_REGISTER | register),
      timeoutMs,
    );
    if (!resp) throw new Error(`no answer for register 0x${register.toString(16)}`);
    return resp.jdunpack(fmt) as unknown as T;
  }

  async provisioned(): Promise<boolean> {
    return (await this.readRegister<[number]>(this.token, TokenRegister.Provisioned, "u8"))[0] !== 0;
  }
  async serial(): Promise<string> {
    return (await this.readRegister<[string]>(this.token, TokenRegister.Serial, "s"))[0];
  }
  async deviceTime(): Promise<number> {
    return (await this.readRegister<[number]>(this.token, TokenRegister.DeviceTime, "u64"))[0];
  }
  async firmwareVersion(): Promise<string> {
    return (await this.readRegister<[string]>(this.token, TokenRegister.FirmwareVersion, "s"))[0];
  }
  async profile(): Promise<string> {
    return (await this.readRegister<[string]>(this.token, TokenRegister.Profile, "s"))[0];
  }
  async algorithm(): Promise<number> {
    return (await this.readRegister<[number]>(this.token, TokenRegister.Algorithm, "u8"))[0];
  }
  async secretFingerprint(): Promise<Buffer> {
    const [b] = await this.readRegister<[Uint8Array]>(this.token, TokenRegister.SecretFingerprint, "b");
    return Buffer.from(b);
  }
  async setTimeCounter(): Promise<number> {
    return (await this.readRegister<[number]>(this.token, TokenRegister.SetTimeCounter, "u32"))[0];
  }
  async clockState(): Promise<number> {
    return (await this.readRegister<[number]>(this.token, TokenRegister.ClockState, "u8"))[0];
  }

  /** The text on the token's display (CharacterScreen `message`). */
  async screenText(): Promise<string> {
    if (!this.screen) throw new Error("the token exposes no CharacterScreen");
    return (await this.readRegister<[string]>(this.screen, REG_SCREEN_MESSAGE, "s"))[0];
  }

  /**
   * Polls the screen until `predicate` holds; returns the text. Polling is a bus round trip per
   * `intervalMs`, bounded by `timeoutMs`; it never sleeps a fixed time before looking.
   */
  async waitForScreen(predicate: (text: string) => boolean, timeoutMs = 10_000, intervalMs = 100): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    for (;;) {
      last = await this.screenText();
      if (predicate(last)) return last;
      if (Date.now() > deadline) throw new Error(`screen did not match within ${timeoutMs} ms; last:\n${last}`);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

/**
 * Waits until a device on `bus` announces the token service (and returns a client for it).
 * Event driven: checks on every device announcement, fails after `timeoutMs`.
 */
export function waitForToken(
  bus: JDBus,
  options: { timeoutMs?: number; excludeDeviceIds?: string[] } = {},
): Promise<TokenClient> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const exclude = new Set(options.excludeDeviceIds ?? []);
  return new Promise<TokenClient>((resolve, reject) => {
    const find = (): TokenClient | undefined => {
      for (const token of bus.services({ serviceClass: SRV_JETON_TOKEN })) {
        if (exclude.has(token.device.deviceId)) continue;
        const screen = token.device.services({ serviceClass: jacdac.SRV_CHARACTER_SCREEN })[0];
        if (!screen) continue; // the announcement listing both arrives together; wait for it
        return new TokenClient(token, screen);
      }
      return undefined;
    };
    const check = () => {
      const client = find();
      if (client) {
        cleanup();
        resolve(client);
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no token service announced within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      bus.off(jacdac.DEVICE_ANNOUNCE, check);
    };
    bus.on(jacdac.DEVICE_ANNOUNCE, check);
    check();
  });
}

/**
 * Resolves once the device restarted (jacdac-ts saw a lower restart counter in its announcement)
 * or left the bus (stopped announcing). Event driven, bounded by `timeoutMs`.
 */
export function waitForRestartOrGone(bus: JDBus, deviceId: string, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onRestart = (device: { deviceId: string }) => {
      if (device.deviceId === deviceId) done();
    };
    const onDisconnect = () => {
      if (!bus.devices().some((d) => d.deviceId === deviceId)) done();
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`device ${deviceId} neither restarted nor left the bus within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      bus.off(jacdac.DEVICE_RESTART, onRestart);
      bus.off(jacdac.DEVICE_DISCONNECT, onDisconnect);
    };
    const done = () => {
      cleanup();
      resolve();
    };
    bus.on(jacdac.DEVICE_RESTART, onRestart);
    bus.on(jacdac.DEVICE_DISCONNECT, onDisconnect);
  });
}
