/**
 * Changes that can give someone a way into an account: a PIN reset (the next login is the code alone), a
 * token assigned or enabled (its holder's code), an emergency password (with the PIN, in place of the
 * code), and an unlock (whoever holds the token, or its seed, may go on guessing the PIN past the lock).
 * Changes that only close a way (disable, unassign, revoke) are not among them.
 */
export const accountOpenings = ["pin-reset", "token-assign", "token-enable", "emergency-issue", "unlock"] as const;
export type AccountOpening = (typeof accountOpenings)[number];

/**
 * Each role may read and do what those below it may: helpdesk ⊇ support ⊇ the auditor's reading; the
 * operator's local commands work on the database itself.
 */
export const roleRank: Readonly<Record<string, number>> = { auditor: 1, support: 2, helpdesk: 3, operator: 4 };

/**
 * Whether `actorRole` may make an opening change to an account whose staff role is `staffRole` (null: not
 * a staff member). Only a role that outranks the account's may: otherwise support, chaining a PIN reset
 * with a token it holds (a found lost token it enables, or a colleague's on a desk), would sign in to the
 * console as the help desk, and the help desk as a help-desk colleague. A help-desk account is helped by
 * the operator's local commands (`jeton staff unlock`, `pin-reset`, `assign`, `enable`, `emergency`).
 */
export function mayOpenAccount(actorRole: string, staffRole: string | null): boolean {
  if (staffRole === null) return true;
  return (roleRank[actorRole] ?? 0) > (roleRank[staffRole] ?? Number.POSITIVE_INFINITY);
}
