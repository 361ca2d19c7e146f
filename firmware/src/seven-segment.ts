// Large code digits as seven-segment figures, like the LCD of a commercial token: seven filled
// rectangles scale to any size for a few bytes of image, where a scaled bitmap font would be blocky
// and large. Segment bits: a = 1 (top), b = 2 (upper right), c = 4 (lower right), d = 8 (bottom),
// e = 16 (lower left), f = 32 (upper left), g = 64 (middle); every digit spans the full height.
import { Image } from "@devicescript/graphics"

const SEGMENTS = hex`3f 06 5b 4f 66 6d 7d 07 7f 6f`

/** Draws decimal `digit` in the box (x, y, width, height) with strokes `stroke` pixels thick. */
export function drawSevenSegmentDigit(
    image: Image,
    digit: number,
    x: number,
    y: number,
    width: number,
    height: number,
    stroke: number
) {
    const s = SEGMENTS[digit]
    // top of the middle bar; the upper verticals reach down to its bottom, the lower ones start at its top
    const middle = (height - stroke) >> 1
    // a 1 stands in the middle of its cell, so "812 984" does not read as "8 12 984"
    const right = digit === 1 ? x + ((width - stroke) >> 1) : x + width - stroke
    if (s & 1) image.fillRect(x, y, width, stroke, 1)
    if (s & 2) image.fillRect(right, y, stroke, middle + stroke, 1)
    if (s & 4) image.fillRect(right, y + middle, stroke, height - middle, 1)
    if (s & 8) image.fillRect(x, y + height - stroke, width, stroke, 1)
    if (s & 16) image.fillRect(x, y + middle, stroke, height - middle, 1)
    if (s & 32) image.fillRect(x, y, stroke, middle + stroke, 1)
    if (s & 64) image.fillRect(x, y + middle, width, stroke, 1)
}
