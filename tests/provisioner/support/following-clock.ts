// A validator clock that runs with real time (the VM token's simulated RTC does too) and that the
// test can move forward: "time passes" for the validator by advance().
import { TestClock } from "../../support/test-validator.js";

export class FollowingClock extends TestClock {
  private shiftMillis = 0;
  constructor() {
    super(Date.now());
    this.now = () => Date.now() + this.shiftMillis;
  }
  override advance(seconds: number): void {
    this.shiftMillis += seconds * 1000;
  }

  /**
   * Waits, if need be, until this clock is 10–45 s into a 60 s step. The token's clock lags it by up to a
   * few seconds (set-time takes whole seconds), so a code read near a step's end could be checked in the
   * next step on a loaded machine: seen as a learned offset one step off.
   */
  async awayFromStepBoundary(): Promise<void> {
    const into = (this.now() / 1000) % 60;
    if (into >= 10 && into <= 45) return;
    await new Promise((resolve) => setTimeout(resolve, ((70 - into) % 60) * 1000));
  }
}
