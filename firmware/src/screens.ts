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
    style: IndicatorStyle
): string {
    return serial + "\n" + groupCode(code) + "\n" + validityBar(secondsLeft, period, style)
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

/** What an e-ink token leaves on the glass when it powers down between wake-ups. */
export function sleepingScreen(serial: string): string {
    return serial + "\nPress for code"
}
