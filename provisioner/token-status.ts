// What a token says about itself (registers only; never the seed), with its clock offset from the
// reference clock and, when the validator is configured, what the validator knows of it.
import type { TokenClient } from "../common/token-service/token-client.js";
import { ClockState } from "../common/token-service/token-protocol.js";
import type { ReferenceClock } from "./reference-clock.js";
import { measureClockOffset } from "./verify.js";

export interface TokenStatus {
  deviceId: string;
  provisioned: boolean;
  serial: string | null;
  algorithm: "SHA1" | "SHA256" | null;
  clock: "ok" | "not-set" | "integrity-lost";
  deviceTime: string | null;
  /** device time minus reference time (s); null when the clock is not trusted */
  clockOffsetSeconds: number | null;
  clockSource: ReferenceClock["source"];
  setTimeCounter: number;
  firmwareVersion: string;
  profile: string;
}

const clockNames = { [ClockState.Ok]: "ok", [ClockState.NotSet]: "not-set", [ClockState.IntegrityLost]: "integrity-lost" } as const;

export async function readTokenStatus(token: TokenClient, clock: ReferenceClock): Promise<TokenStatus> {
  const provisioned = await token.provisioned();
  const algorithmCode = await token.algorithm();
  const clockState = (await token.clockState()) as keyof typeof clockNames;
  const { deviceTime, offsetSeconds } = await measureClockOffset(token, clock);
  return {
    deviceId: token.deviceId,
    provisioned,
    serial: provisioned ? await token.serial() : null,
    algorithm: algorithmCode === 1 ? "SHA1" : algorithmCode === 2 ? "SHA256" : null,
    clock: clockNames[clockState] ?? "not-set",
    deviceTime: deviceTime ? new Date(deviceTime * 1000).toISOString() : null,
    clockOffsetSeconds: Number.isFinite(offsetSeconds) ? offsetSeconds : null,
    clockSource: clock.source,
    setTimeCounter: await token.setTimeCounter(),
    firmwareVersion: await token.firmwareVersion(),
    profile: await token.profile(),
  };
}
