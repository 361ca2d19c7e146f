// TOTP hash algorithms as numbered on the wire (token service `algorithm` field) and named in the
// token profile (devicescript.json). 0 is deliberately invalid so an all-zero payload is refused.
import { SECRET_LENGTH_SHA1, SECRET_LENGTH_SHA256 } from "./profile.g"

export const ALGORITHM_SHA1 = 1
export const ALGORITHM_SHA256 = 2

export function algorithmFromName(name: string): number {
    if (name === "SHA1") return ALGORITHM_SHA1
    if (name === "SHA256") return ALGORITHM_SHA256
    return 0
}

export function algorithmName(algorithm: number): string {
    if (algorithm === ALGORITHM_SHA1) return "SHA1"
    if (algorithm === ALGORITHM_SHA256) return "SHA256"
    return "?"
}

/** Seed length the profile requires for `algorithm`, or 0 if the algorithm is unknown. */
export function seedLengthFor(algorithm: number): number {
    if (algorithm === ALGORITHM_SHA1) return SECRET_LENGTH_SHA1
    if (algorithm === ALGORITHM_SHA256) return SECRET_LENGTH_SHA256
    return 0
}
