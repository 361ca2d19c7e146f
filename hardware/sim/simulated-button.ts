// The token's confirmation button for the VM: a Jacdac Button server the harness hosts; tests
// (and `jeton sim`) press it where a person would press the button on the board.
import { jacdac } from "../../common/token-service/jacdac.js";

export class SimulatedButton extends jacdac.ButtonServer {
  presses = 0;

  constructor() {
    super("confirm");
  }

  /** the next bus refresh tick, when jacdac-ts's ButtonServer turns reading changes into events */
  private nextRefresh(): Promise<void> {
    return new Promise((resolve) => this.once(jacdac.REFRESH, () => resolve()));
  }

  /**
   * A short press: down, held until the server has sent the Down event, then up (Up event).
   * ButtonServer only emits events on its refresh tick, so a down/up within one tick would be lost.
   */
  async press(): Promise<void> {
    this.presses++;
    await this.down();
    await this.nextRefresh();
    await this.up();
    await this.nextRefresh();
  }
}
