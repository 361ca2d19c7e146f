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
}
