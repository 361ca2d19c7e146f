// What the token shows, as plain text lines for a CharacterScreen (rows x columns). Pure
// functions: unit-tested on the VM and read back by tests through the CharacterScreen register.

export interface IndicatorStyle {
    /** number of bar cells; fewer cells mean fewer redraws (e-ink) */
    cells: number
    /** append the seconds left (only where redrawing every second is cheap: OLED) */
    showSeconds: boolean
}

/** "123456" -> "123 456", "12345678" -> "1234 5678" */
export function groupCode(code: string): string {
    const half = Math.floor(code.length / 2)
    return code.slice(0, half) + " " + code.slice(half)
}

export function validityBar(secondsLeft: number, period: number, style: IndicatorStyle): string {
    // a face redrawn only when the code changes says so instead of showing a bar that would stand still
    if (style.cells === 0) return "new code every " + period + " s"
    const filled = Math.ceil((secondsLeft * style.cells) / period)
    let bar = "["
    for (let i = 0; i < style.cells; i++) bar += i < filled ? "#" : "-"
    bar += "]"
    if (style.showSeconds) bar += " " + secondsLeft + "s"
    return bar
}

export function codeScreen(
    serial: string,
    code: string,
    secondsLeft: number,
    period: number,
    style: IndicatorStyle,
    nextCode?: string
): string {
    const footer = validityBar(secondsLeft, period, style)
    return serial + "\n" + groupCode(code) + "\n" + (nextCode ? footer + " next " + groupCode(nextCode) : footer)
}

/** "123 456": a line of digits and group spaces. */
export function isCodeLine(line: string): boolean {
    if (!line || line.length < 2) return false
    for (let i = 0; i < line.length; i++) {
        const c = line.charCodeAt(i)
        if (c !== 0x20 && (c < 0x30 || c > 0x39)) return false
    }
    return true
}

export function isCodeScreen(text: string): boolean {
    return isCodeLine(text.split("\n")[1])
}

export function isConfirmScreen(text: string): boolean {
    return text.indexOf("Press button to") === 0
}

/** The last line of any screen while the supply is low; the face draws it as a battery mark. */
export const BATTERY_LOW_LINE = "Battery low"

export function withBatteryLow(text: string): string {
    return text + "\n" + BATTERY_LOW_LINE
}

export function notProvisionedScreen(): string {
    return "JETON\nNot provisioned\nSee help desk"
}

export function clockNotSetScreen(serial: string): string {
    return serial + "\nClock not set\nSee help desk"
}

export function clockLostScreen(serial: string): string {
    return serial + "\nClock integrity lost\nRe-provision token"
}

/** After the clock was set back: until it passes the last step shown, no code (none is shown twice). */
export function waitScreen(serial: string): string {
    return serial + "\nWait for next code"
}

export function confirmScreen(action: string): string {
    return "Press button to\n" + action + "\n(10 s)"
}

/** The rest screen of a press-to-show token, left on the e-ink while it is off. */
export function sleepingScreen(serial: string): string {
    return serial + "\nPress for code"
}
