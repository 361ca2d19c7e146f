import { Option, type Command } from "commander";
import { configFromEnvironment } from "../validator/config.js";
import type { ValidatorContext } from "../validator/context.js";
import { OperationError } from "../validator/operations/operation-error.js";
import { issueEmergencyPassword } from "../validator/operations/emergency-passwords.js";
import { addStaff, listStaff, removeStaff, staffRoles, type StaffRole } from "../validator/operations/staff.js";
import { assignToken, enableToken } from "../validator/operations/tokens.js";
import { getUser, resetPin, unlockUser } from "../validator/operations/users.js";
import { CommandFailure, exitCodes } from "../common/failure.js";
import { localActor } from "./keys-command.js";

/** Like `jeton keys`: directly on the configured database, acting as the local operator. */
async function onDatabase<T>(work: (ctx: ValidatorContext) => Promise<T>): Promise<T> {
  // loaded when run: storage would slow every other `jeton` command's start
  const { openConfiguredValidator } = await import("../validator/validator.js");
  const { ctx } = await openConfiguredValidator(configFromEnvironment());
  try {
    return await work(ctx);
  } catch (error) {
    if (error instanceof OperationError) throw new CommandFailure(error.message, exitCodes.refused);
    throw error;
  } finally {
    await ctx.database.close();
  }
}

export function staffCommand(program: Command): void {
  const staff = program.command("staff").description("support console staff, directly in the configured database (no server needed)");
  staff
    .command("add <user>")
    .description("let a user who holds a token sign in to the support console with a role (again: change the role)")
    .addOption(new Option("--role <role>", "what they may do in the console").choices(staffRoles).makeOptionMandatory())
    .option("--json", "print the staff member as JSON")
    .action(async (user: string, options: { role: StaffRole; json?: boolean }) => {
      const { member, pinSet } = await onDatabase(async (ctx) => {
        const added = await addStaff(ctx, localActor(), user, options.role);
        return { member: added, pinSet: (await getUser(ctx, added.user)).pinSet };
      });
      process.stdout.write(options.json ? JSON.stringify(member) + "\n" : `${member.user} is ${member.role} staff\n`);
      // Whoever holds the token's code when that first sign-in comes chooses the PIN.
      if (!pinSet) process.stderr.write(`note: ${member.user} has no PIN yet: the first sign-in with the token's code alone sets it\n`);
    });
  // The opening changes no colleague may make on a help-desk account (policy/staff-accounts.ts): the
  // operator makes them here, on the database, audited as the local operator.
  const change = <T>(usage: string, description: string, run: (ctx: ValidatorContext, given: string[]) => Promise<T>, said: (result: T) => string) =>
    staff
      .command(usage)
      .description(description)
      .option("--json", "print the result as JSON")
      .action(async (...args: unknown[]) => {
        const { json } = args.at(-2) as { json?: boolean };
        const result = await onDatabase((ctx) => run(ctx, args.slice(0, -2) as string[]));
        process.stdout.write(json ? JSON.stringify(result) + "\n" : said(result) + "\n");
      });
  change(
    "unlock <user>",
    "clear a staff member's failure count (the help desk cannot on a help-desk account)",
    (ctx, [user]) => unlockUser(ctx, localActor(), user!),
    (view) => `${view.user} unlocked`,
  );
  change(
    "pin-reset <user>",
    "reset a staff member's PIN: their next sign-in is the token's code alone, then a new PIN",
    (ctx, [user]) => resetPin(ctx, localActor(), user!),
    (view) => `${view.user}'s PIN reset: the next sign-in is the token's code alone, then a new PIN`,
  );
  change(
    "assign <serial> <user>",
    "assign a registered token to a staff member (a replacement: the PIN stays)",
    (ctx, [serial, user]) => assignToken(ctx, localActor(), serial!, user!),
    (token) => `${token.serial} assigned to ${token.user}`,
  );
  change("enable <serial>", "enable a staff member's disabled token again", (ctx, [serial]) => enableToken(ctx, localActor(), serial!), (token) => `${token.serial} enabled`);
  change(
    "emergency <user>",
    "issue a staff member an emergency password for today (used with their PIN, at the portal only)",
    (ctx, [user]) => issueEmergencyPassword(ctx, localActor(), user!),
    (issued) => `emergency password: ${issued.password} (until ${issued.expiresAt})`,
  );
  staff
    .command("list")
    .description("list staff members and their roles")
    .option("--json", "print a JSON array")
    .action(async (options: { json?: boolean }) => {
      const members = await onDatabase((ctx) => listStaff(ctx));
      process.stdout.write(
        options.json ? JSON.stringify(members) + "\n" : members.map((member) => `${member.user}\t${member.role}\tadded ${member.addedAt} by ${member.addedBy}\n`).join(""),
      );
    });
  staff
    .command("remove <user>")
    .description("take a user off the staff; their console sessions end at once")
    .option("--json", 'print {"user", "sessionsEnded"}')
    .action(async (user: string, options: { json?: boolean }) => {
      const removed = await onDatabase((ctx) => removeStaff(ctx, localActor(), user));
      process.stdout.write(options.json ? JSON.stringify(removed) + "\n" : `${removed.user} removed from staff (${removed.sessionsEnded} console session(s) ended)\n`);
    });
}
