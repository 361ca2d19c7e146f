// The token's confirmation button for the VM: a Jacdac Button server the harness hosts; tests
// (and `jeton sim`) press it where a person would press the button on the board.
import { jacdac } from "./jacdac.js";

export class SimulatedButton extends jacdac.ButtonServer {
  presses = 0;

  constructor() {
    super("confirm");
  }

  /** A short press: down then up. */
  async press(): Promise<void> {
    this.presses++;
    await this.down();
    await this.up();
  }
}
