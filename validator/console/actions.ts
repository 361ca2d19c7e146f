import { z } from "zod";
import { serialNumber, userId } from "../../common/identifiers.js";
import type { ValidatorContext } from "../context.js";
import { roleGrants, type Role } from "../operations/api-keys.js";
import { issueEmergencyPassword, revokeEmergencyPassword, type IssuedEmergencyPassword } from "../operations/emergency-passwords.js";
import { assignToken, disableReasons, disableToken, enableToken, getToken, unassignToken } from "../operations/tokens.js";
import { resetPin, unlockUser } from "../operations/users.js";
import { mayOpenAccount, type AccountOpening } from "../policy/staff-accounts.js";
import type { StaffRole } from "../operations/staff.js";
import type { Actor } from "../storage/audit-log.js";

// The identifier and serial rules of every door; identifiers normalised, as the operations name them.
const user = userId;
const serial = serialNumber;
/** Where to go after the action: the user's page, or the next step of the lost-token flow. */
const next = z.enum(["user", "lost"]).default("user");
/** The user whose page the token's form was on: the operation changes nothing if the token changed hands since. */
const heldBy = userId;

export type ActionOutcome = { kind: "redirect"; location: string } | { kind: "emergency"; user: string; issued: IssuedEmergencyPassword; lostSerial: string | null };

interface ConsoleAction<Fields extends z.ZodType> {
  /** The API's roles for the same operation (helpdesk ⊇ support; auditors act on nothing). */
  roles: Role[];
  /** Needs a passcode entered within the step-up time. */
  stepUp: boolean;
  /** Could open a way into the account (policy/staff-accounts.ts): offered on staff accounts only to a role above theirs. */
  opens?: AccountOpening;
  fields: Fields;
  /** The users the action touches: none of them may be the staff member acting. */
  subjects(ctx: ValidatorContext, fields: z.output<Fields>): Promise<(string | null)[]>;
  run(ctx: ValidatorContext, actor: Actor, fields: z.output<Fields>): Promise<ActionOutcome>;
}

const userPage = (name: string, done: string) => ({ kind: "redirect" as const, location: `/console/users/${encodeURIComponent(name)}?done=${done}` });
const lostPage = (name: string, token: string) => ({ kind: "redirect" as const, location: `/console/users/${encodeURIComponent(name)}/lost/${encodeURIComponent(token)}` });
const tokenOwner = async (ctx: ValidatorContext, token: string) => (await getToken(ctx, token)).user;

function action<Fields extends z.ZodType>(definition: ConsoleAction<Fields>): ConsoleAction<Fields> {
  return definition;
}

/** Every state change the console can make, each through the operation the API and CLI use. */
export const consoleActions = {
  "user-unlock": action({
    roles: ["support"],
    stepUp: true,
    opens: "unlock",
    fields: z.strictObject({ user }),
    subjects: async (_ctx, fields) => [fields.user],
    run: async (ctx, actor, fields) => (await unlockUser(ctx, actor, fields.user), userPage(fields.user, "user-unlock")),
  }),
  "user-pin-reset": action({
    roles: ["support"],
    stepUp: true,
    opens: "pin-reset",
    fields: z.strictObject({ user }),
    subjects: async (_ctx, fields) => [fields.user],
    run: async (ctx, actor, fields) => (await resetPin(ctx, actor, fields.user), userPage(fields.user, "user-pin-reset")),
  }),
  "emergency-issue": action({
    roles: ["support"],
    stepUp: true,
    opens: "emergency-issue",
    fields: z.strictObject({ user, serial: serial.optional() }),
    subjects: async (_ctx, fields) => [fields.user],
    run: async (ctx, actor, fields) => ({ kind: "emergency", user: fields.user, issued: await issueEmergencyPassword(ctx, actor, fields.user), lostSerial: fields.serial ?? null }),
  }),
  "emergency-revoke": action({
    roles: ["support"],
    stepUp: false,
    fields: z.strictObject({ user }),
    subjects: async (_ctx, fields) => [fields.user],
    run: async (ctx, actor, fields) => (await revokeEmergencyPassword(ctx, actor, fields.user), userPage(fields.user, "emergency-revoke")),
  }),
  "token-disable": action({
    roles: ["support"],
    stepUp: true,
    fields: z.strictObject({ serial, heldBy, reason: z.enum(disableReasons), next }),
    subjects: async (ctx, fields) => [await tokenOwner(ctx, fields.serial)],
    run: async (ctx, actor, fields) => {
      const token = await disableToken(ctx, actor, fields.serial, fields.reason, { heldBy: fields.heldBy });
      if (token.user === null) return { kind: "redirect", location: `/console/search?q=${encodeURIComponent(fields.serial)}` };
      return fields.next === "lost" ? lostPage(token.user, fields.serial) : userPage(token.user, "token-disable");
    },
  }),
  "token-enable": action({
    roles: ["support"],
    stepUp: true,
    opens: "token-enable",
    fields: z.strictObject({ serial, heldBy }),
    subjects: async (ctx, fields) => [await tokenOwner(ctx, fields.serial)],
    run: async (ctx, actor, fields) => {
      const token = await enableToken(ctx, actor, fields.serial, { heldBy: fields.heldBy });
      return token.user === null ? { kind: "redirect", location: `/console/search?q=${encodeURIComponent(fields.serial)}` } : userPage(token.user, "token-enable");
    },
  }),
  "token-assign": action({
    roles: ["helpdesk"],
    stepUp: true,
    opens: "token-assign",
    fields: z.strictObject({ serial, user }),
    subjects: async (ctx, fields) => [fields.user, await tokenOwner(ctx, fields.serial)],
    run: async (ctx, actor, fields) => (await assignToken(ctx, actor, fields.serial, fields.user), userPage(fields.user, "token-assign")),
  }),
  "token-unassign": action({
    roles: ["helpdesk"],
    stepUp: true,
    fields: z.strictObject({ serial, heldBy }),
    subjects: async (ctx, fields) => [await tokenOwner(ctx, fields.serial)],
    run: async (ctx, actor, fields) => (await unassignToken(ctx, actor, fields.serial, { heldBy: fields.heldBy }), userPage(fields.heldBy, "token-unassign")),
  }),
};

export type ActionName = keyof typeof consoleActions;

export function isActionName(name: string): name is ActionName {
  return Object.hasOwn(consoleActions, name);
}

/**
 * Which actions a staff role may take (the same grants as the API's keys); on the account of a staff member
 * with `subjectStaffRole`, the opening ones only where its role outranks theirs (the operations refuse them too).
 */
export function allowedActions(role: StaffRole, subjectStaffRole: StaffRole | null = null): ActionName[] {
  return (Object.keys(consoleActions) as ActionName[]).filter((name) => {
    const { roles, opens } = consoleActions[name];
    return roleGrants(role, roles) && (opens === undefined || mayOpenAccount(role, subjectStaffRole));
  });
}

/**
 * What a user's page offers the staff member viewing it: the actions allowed there, and whether the
 * opening ones are held back because the account is a staff member's their role does not outrank.
 */
export function accountActions(role: StaffRole, subjectStaffRole: StaffRole | null): { allowed: ActionName[]; guarded: boolean } {
  return { allowed: allowedActions(role, subjectStaffRole), guarded: !mayOpenAccount(role, subjectStaffRole) };
}

/** Identifiers are compared case-insensitively, like everywhere else. */
export function sameUser(a: string | null, b: string): boolean {
  return a !== null && a.toLowerCase() === b.toLowerCase();
}
