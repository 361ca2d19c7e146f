// Sends screens to the display only when the text changes: an e-ink refresh costs ~2 s and
// visible flashing, so the same picture is never redrawn.
export type ScreenSink = (text: string) => Promise<void>

export class TokenDisplay {
    private shown: string = undefined

    constructor(readonly sink: ScreenSink) {}

    async show(text: string): Promise<boolean> {
        if (text === this.shown) return false
        this.shown = text
        await this.sink(text)
        return true
    }
}
