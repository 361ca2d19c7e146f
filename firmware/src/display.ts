// Sends screens to the display only when the text changes: an e-ink refresh costs ~2 s and
// visible flashing, so the same picture is never redrawn.
export type ScreenSink = (text: string) => Promise<void>

export class TokenDisplay {
    private shown: string = undefined
    /** how many times the screen was actually redrawn (for tests and power figures) */
    redraws = 0

    constructor(readonly sink: ScreenSink) {}

    shownText(): string {
        return this.shown
    }

    async show(text: string): Promise<boolean> {
        if (text === this.shown) return false
        this.shown = text
        this.redraws++
        await this.sink(text)
        return true
    }
}
