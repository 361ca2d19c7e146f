// The small text of the token's face: printable ASCII (0x20-0x7e), 6x8 pixels per character, one
// byte per column, least significant bit at the top. The glyphs are DeviceScript's own font8
// (@devicescript/graphics, MIT licence) cut down to ASCII: the full font carries 5 KB of accented
// and symbol glyphs the token never shows, and the image budget is 32 KB.
import { Image } from "@devicescript/graphics"

export const GLYPH_WIDTH = 6
export const GLYPH_HEIGHT = 8

const GLYPHS = hex`
000000000000 00005e000000 000e000e0000 28fe28fe2800 4c92ff926400 02651248a640 6c92926ca000 00000e000000
00007c820000 0000827c0000 543810385400 10107c101000 000090700000 101010101000 000060600000 006010080600
003c42423c00 00447e400000 004462524c00 00424a4e3200 3028247e2000 004e4a4a3200 003c4a4a3000 000262120e00
00344a4a3400 000c52523c00 00006c6c0000 000096760000 102828444400 282828282800 444428281000 000259090600
3c425a560800 781412147800 7e4a4a4a3400 003c42422400 007e42423c00 007e4a4a4200 007e0a0a0200 003c42523400
007e08087e00 00427e420000 2040423e0200 007e08146200 007e40404000 7e0418047e00 007e04087e00 3c4242423c00
007e12120c00 003c5262bc00 007e12126c00 00244a522400 02027e020200 003e40403e00 001e70701e00 7e2018207e00
422418244200 060870080600 0062524a4600 007e42420000 000608106000 0042427e0000 080402040800 808080808000
000002040000 003048487800 007e48483000 003048484800 003048487e00 003068585000 00107c120400 0018a4a47800
007e08087000 00487a400000 0040847d0000 007e10284000 00427e400000 780830087000 007808087000 003048483000
00fc24241800 00182424fc00 007810081000 005058682800 00083e482000 003840407800 001860601800 384030403800
004830304800 005ca0a07c00 004868584800 000836410000 0000fe000000 004136080000 000804080400
`

/** Width in pixels of `text` drawn at `scale`. */
export function textWidth(text: string, scale: number): number {
    return text.length * GLYPH_WIDTH * scale
}

/** Draws `text` with its top-left corner at (x, y), each font pixel a `scale` x `scale` square. */
export function drawText(image: Image, text: string, x: number, y: number, scale: number) {
    for (let i = 0; i < text.length; i++) {
        let code = text.charCodeAt(i)
        if (code < 0x20 || code > 0x7e) code = 0x3f // "?"
        const at = (code - 0x20) * GLYPH_WIDTH
        for (let column = 0; column < GLYPH_WIDTH; column++) {
            const bits = GLYPHS[at + column]
            for (let row = 0; row < GLYPH_HEIGHT; row++)
                if (bits & (1 << row)) image.fillRect(x + column * scale, y + row * scale, scale, scale, 1)
        }
        x += GLYPH_WIDTH * scale
    }
}
