// The token's face: the screen text of screens.ts drawn as a layout for a person to read at a
// glance. Line 1 is the header (serial number or title, small, top left); line 2 the main line (the
// code as large seven-segment digits, at least 45 % of the display height, or a short message as
// large as fits); line 3 the footer (the validity bar drawn as cells, with any text after the bar
// right-aligned, or a small centred hint). A last line "Battery low" becomes a battery mark in the
// top right corner. The same layout adapts to the Badger's 296x128 e-ink and the XIAO's 128x64 OLED.
import { Image } from "@devicescript/graphics"
import { BATTERY_LOW_LINE, isCodeLine } from "./screens"
import { drawSevenSegmentDigit } from "./seven-segment"
import { drawText, GLYPH_HEIGHT, textWidth } from "./small-font"

/** Share of the display height taken by a code digit (≥ 45 % required for legibility). */
const DIGIT_HEIGHT_SHARE = 0.55

function strokeRect(image: Image, x: number, y: number, w: number, h: number, t: number) {
    image.fillRect(x, y, w, t, 1)
    image.fillRect(x, y + h - t, w, t, 1)
    image.fillRect(x, y, t, h, 1)
    image.fillRect(x + w - t, y, t, h, 1)
}

/** "123 456" centred in the band [top, bottom): digit gaps inside a group, a wider gap between groups. */
function drawCode(image: Image, line: string, top: number, bottom: number, margin: number) {
    const height = Math.ceil(image.height * DIGIT_HEIGHT_SHARE)
    let digits = 0
    for (let i = 0; i < line.length; i++) if (line.charAt(i) !== " ") digits++
    const groupGaps = line.length - digits
    // proportions of a token LCD digit, narrowed when the line would not fit the width
    let width = height >> 1
    const fit = (w: number) => digits * w + (digits - 1 - groupGaps) * (w >> 2) + groupGaps * w
    const room = image.width - 2 * margin
    if (fit(width) > room) width = Math.floor((width * room) / fit(width))
    const gap = width >> 2
    const groupGap = width
    const stroke = Math.max(2, Math.floor(width / 5))
    let x = (image.width - fit(width)) >> 1
    const y = top + ((bottom - top - height) >> 1)
    for (let i = 0; i < line.length; i++) {
        const c = line.charCodeAt(i)
        if (c === 0x20) {
            x += groupGap - gap
            continue
        }
        drawSevenSegmentDigit(image, c - 0x30, x, y, width, height, stroke)
        x += width + gap
    }
}

/** A message as large as fits the width (at most a quarter of the height per line). */
function drawMessage(image: Image, line: string, top: number, bottom: number, margin: number) {
    const scale = Math.max(1, Math.min(Math.floor((image.width - 2 * margin) / textWidth(line, 1)), image.height >> 5))
    drawText(
        image,
        line,
        (image.width - textWidth(line, scale)) >> 1,
        top + ((bottom - top - GLYPH_HEIGHT * scale) >> 1),
        scale
    )
}

/** "[###-]" as four cells, three filled; text after the bar ("37s", "next 123 456") right-aligned. */
function drawFooter(image: Image, line: string, y: number, margin: number, small: number) {
    const lineHeight = GLYPH_HEIGHT * small
    const close = line.indexOf("]")
    if (line.charAt(0) !== "[" || close < 0) {
        drawText(image, line, (image.width - textWidth(line, small)) >> 1, y, small)
        return
    }
    const cells = close - 1
    const cellWidth = Math.min(lineHeight * 2, Math.floor(image.width / 2 / cells))
    for (let i = 0; i < cells; i++) {
        const x = margin + i * cellWidth
        if (line.charAt(i + 1) === "#") image.fillRect(x, y, cellWidth - small, lineHeight, 1)
        else strokeRect(image, x, y, cellWidth - small, lineHeight, small)
    }
    const rest = line.slice(close + 1).trim()
    drawText(image, rest, image.width - margin - textWidth(rest, small), y, small)
}

/** A battery outline with an empty body and "low" beside it, top right. */
function drawBatteryLow(image: Image, edge: number, margin: number, small: number) {
    const w = 11 * small
    const h = 6 * small
    const x = image.width - margin - w - small
    const y = edge + small
    strokeRect(image, x, y, w, h, small)
    image.fillRect(x + w, y + 2 * small, small, 2 * small, 1)
    image.fillRect(x + 2 * small, y + 2 * small, small, 2 * small, 1)
    drawText(image, "low", x - small - textWidth("low", small), edge, small)
}

/** Clears `image` and draws the face for screen `text`. */
export function drawFace(image: Image, text: string) {
    image.fill(0)
    const lines = text.split("\n")
    let batteryLow = false
    if (lines.length > 1 && lines[lines.length - 1] === BATTERY_LOW_LINE) {
        lines.pop()
        batteryLow = true
    }
    // small text: 8 px on the 64 px OLED, 16 px on the 128 px e-ink
    const small = Math.max(1, image.height >> 6)
    const edge = (small - 1) * 2
    const margin = small * 2
    const lineHeight = GLYPH_HEIGHT * small
    drawText(image, lines[0], margin, edge, small)
    if (batteryLow) drawBatteryLow(image, edge, margin, small)
    const top = edge + lineHeight
    const footerY = image.height - edge - lineHeight
    if (lines.length > 1) {
        if (isCodeLine(lines[1])) drawCode(image, lines[1], top, footerY, margin)
        else drawMessage(image, lines[1], top, footerY, margin)
    }
    if (lines.length > 2) drawFooter(image, lines[2], footerY, margin, small)
}
