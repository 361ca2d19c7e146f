// How a command of any part reports that it failed, with the exit category the `jeton` program turns
// into its documented exit code (README). The parts throw it; only jeton/ catches and exits.

/** Exit codes shared by every client command (documented in README). */
export const exitCodes = { ok: 0, refused: 1, usage: 2, unreachable: 3 } as const;

export class CommandFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly body?: unknown,
  ) {
    super(message);
  }
}
