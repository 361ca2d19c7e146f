// The Badger's supply sense for the VM: VSYS through a 1/3 divider into a 3.3 V ADC, i.e. the
// fraction volts / 9.9 of full scale, served as the Jacdac potentiometer the firmware reads on a
// board (startPotentiometer on GP29). Tests set the voltage to see the battery-low mark.
import { jacdac } from "../../common/token-service/jacdac.js";

/** Supply volts at the ADC's full scale (firmware: boards/pimoroni-badger2040w-parts.ts). */
export const SUPPLY_FULL_SCALE_VOLTS = 9.9;

export class SimulatedSupply extends jacdac.SensorServer<[number]> {
  constructor(volts: number) {
    super(jacdac.SRV_POTENTIOMETER, { instanceName: "vsys", readingValues: [volts / SUPPLY_FULL_SCALE_VOLTS], streamingInterval: 100 });
  }

  setVolts(volts: number): void {
    this.reading.setValues([volts / SUPPLY_FULL_SCALE_VOLTS]);
  }
}
