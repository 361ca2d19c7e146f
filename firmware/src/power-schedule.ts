// When a battery token that powers off between screens must wake up again: at the next moment
// the screen would change (a bar cell empties, or a new code starts).

/**
 * Next time (UTC Unix seconds) after `unixSeconds` at which a `cells`-cell validity bar or the
 * code changes. Cells are period / cells seconds wide; with cells = 1 this is the next code.
 */
export function nextRedrawTime(unixSeconds: number, period: number, t0: number, cells: number): number {
    const cellSeconds = period / cells
    const elapsed = unixSeconds - t0
    const intoCell = elapsed - Math.floor(elapsed / cellSeconds) * cellSeconds
    return Math.ceil(unixSeconds + cellSeconds - intoCell)
}
