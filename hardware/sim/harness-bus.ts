// The test side of a simulated token: a jacdac-ts bus connected to a frame hub, hosting the
// simulated RTC and button (one Jacdac device, like the chips on a board) and acting as the host
// that talks to the token.
import { readFileSync } from "node:fs";
import { firmwareServicesJson } from "../../common/token-service/devs-cli.js";
import { jacdac, type JDBus, type Packet } from "../../common/token-service/jacdac.js";
import { SimulatedButton } from "./simulated-button.js";
import { SimulatedRtc } from "./simulated-rtc.js";
import { SimulatedSupply } from "./simulated-supply.js";

export interface HarnessBusOptions {
  hubPort: number;
  /** start time of the simulated RTC (UTC Unix seconds); defaults to the host's time */
  rtcStartTime?: number;
  /** host no RTC at all (to see the token's "clock not set" screen) */
  withoutRtc?: boolean;
  /** battery voltage the simulated supply sense starts at (default 3.0 V, fresh 2 × AAA lithium) */
  supplyVolts?: number;
}

export interface HarnessBus {
  readonly bus: JDBus;
  readonly rtc: SimulatedRtc | undefined;
  readonly button: SimulatedButton;
  readonly supply: SimulatedSupply;
  close(): Promise<void>;
}

/** A jacdac-ts bus on the hub that knows the token service spec (for pretty names and packing). */
export async function connectBus(hubPort: number): Promise<JDBus> {
  const services = JSON.parse(readFileSync(firmwareServicesJson(), "utf8"));
  const bus = new jacdac.JDBus([jacdac.createNodeSocketTransport(hubPort, "127.0.0.1")], {
    services,
    client: false,
    disableRoleManager: true,
  });
  await bus.connect();
  return bus;
}

/**
 * The simulated chips' Jacdac device. It drops RealTimeClock multicommands: every jacdac-ts host
 * broadcasts its *local* time to all RTCs it sees (JDBus.handleRealTimeClockSync), but a real RTC
 * sits on the token's private I2C bus and only the token writes it. (jacdac-ts turns a multicommand
 * into a plain command before the server sees it, so the filter has to be here.)
 */
class PeripheralDevice extends jacdac.JDServerServiceProvider {
  constructor(
    servers: InstanceType<typeof jacdac.JDServiceServer>[],
    private readonly rtc: SimulatedRtc | undefined,
  ) {
    super("jeton-sim-peripherals", servers);
  }

  protected override handlePacket(pkt: Packet): void {
    if (pkt.isMultiCommand && pkt.serviceClass === jacdac.SRV_REAL_TIME_CLOCK) {
      if (this.rtc) this.rtc.ignoredBroadcasts++;
      return;
    }
    super.handlePacket(pkt);
  }
}

export async function startHarnessBus(options: HarnessBusOptions): Promise<HarnessBus> {
  const bus = await connectBus(options.hubPort);
  const rtc = options.withoutRtc ? undefined : new SimulatedRtc(options.rtcStartTime);
  const button = new SimulatedButton();
  const supply = new SimulatedSupply(options.supplyVolts ?? 3.0);
  const servers = rtc ? [rtc, button, supply] : [button, supply];
  bus.addServiceProvider(new PeripheralDevice(servers, rtc));
  return {
    bus,
    rtc,
    button,
    supply,
    async close() {
      await bus.disconnect();
      await bus.dispose();
    },
  };
}
