// Physical confirmation for destructive operations (wipe, re-provision): the token shows a
// prompt and waits for a press that starts after the prompt appeared. In the VM the harness
// hosts the button and tests press it.
import * as ds from "@devicescript/core"

export const CONFIRM_WINDOW_MS = 10000

export class ConfirmButton {
    private lastPress = -1
    /** the prompt currently shown, if a confirmation is pending */
    pending: string = undefined

    constructor(readonly button: ds.Button) {
        const self = this
        button.down.subscribe(() => {
            self.lastPress = ds.millis()
        })
    }

    /** Shows the prompt (through `redraw`), waits for a press, then clears the prompt. */
    async confirm(action: string, redraw: () => Promise<void>): Promise<boolean> {
        if (this.pending) return false
        const start = ds.millis()
        this.pending = action
        let pressed = false
        try {
            await redraw()
            while (ds.millis() - start < CONFIRM_WINDOW_MS) {
                if (this.lastPress >= start) {
                    pressed = true
                    break
                }
                await ds.sleep(50)
            }
        } finally {
            this.pending = undefined
        }
        await redraw()
        return pressed
    }
}
