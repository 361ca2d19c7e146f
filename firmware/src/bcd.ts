// Binary-coded decimal as used by the PCF85063A and PCF8563 time registers.

export function toBcd(value: number): number {
    return (Math.floor(value / 10) << 4) | value % 10
}

/** Decodes the low nibbles of `byte` after masking away flag bits with `mask`. */
export function fromBcd(byte: number, mask: number): number {
    const v = byte & mask
    return (v >> 4) * 10 + (v & 0x0f)
}
