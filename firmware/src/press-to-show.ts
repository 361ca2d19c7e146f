// Press-to-show battery mode: the code is shown from a button press to the end of its time step,
// then the token rests ("Press for code", board off). Powering up counts as a press (on the
// battery it is one: button A switches the board on), and so does a provisioning or clock
// correction (the host then reads the code off the display). A press that answers a confirmation
// prompt only confirms.
import * as ds from "@devicescript/core"
import { ConfirmButton } from "./confirm-button"

/** With fewer seconds than this left, the next code is shown too (time to type the current one). */
export const NEXT_CODE_SECONDS = 15

export class PressToShow {
    private requested = true
    private until = 0

    constructor(button: ds.Button, confirm: ConfirmButton) {
        const self = this
        button.down.subscribe(() => {
            if (!confirm.pending) self.requested = true
        })
    }

    request() {
        this.requested = true
    }

    /** Whether the code is shown at `time`; a pending request shows it until `stepEnd` (both Unix s). */
    showing(time: number, stepEnd: number): boolean {
        if (this.requested) {
            this.requested = false
            this.until = stepEnd
        }
        return time < this.until
    }
}
