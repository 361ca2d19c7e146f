import { Option, type Command } from "commander";
import { configFromEnvironment } from "../validator/config.js";
import type { ValidatorContext } from "../validator/context.js";
import { OperationError } from "../validator/operations/operation-error.js";
import { addStaff, listStaff, removeStaff, staffRoles, type StaffRole } from "../validator/operations/staff.js";
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
      const member = await onDatabase((ctx) => addStaff(ctx, localActor(), user, options.role));
      process.stdout.write(options.json ? JSON.stringify(member) + "\n" : `${member.user} is ${member.role} staff\n`);
    });
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
