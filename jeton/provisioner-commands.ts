// The provisioner's commands in the `jeton` program: devices, provision, status, resync, wipe,
// batch and pskc. Each validates its input before touching a token or the validator.
import { Command, Option } from "commander";
import { TokenResult, resultName } from "../common/token-service/token-protocol.js";
import { CommandFailure, exitCodes } from "../common/failure.js";
import { addTargetOptions, print, say, waitMillis, withTokenBus, quietJacdac, exitWhenDone, type TargetOptions } from "../provisioner/cli-support.js";
import { otpauthUri } from "../provisioner/otpauth.js";
import { provisionToken, stateSentence, type ProvisionOutcome } from "../provisioner/provision.js";
import { hostClock, validatorReferenceClock } from "../provisioner/reference-clock.js";
import { checkAlgorithm, checkUser, preparedValidator } from "../provisioner/provision-inputs.js";
import { resyncToken } from "../provisioner/resync.js";
import { listSerialPorts, tokenCandidates } from "../provisioner/serial-ports.js";
import { tokensOnBus, waitForOneToken } from "../provisioner/token-connection.js";
import { loadProvisionerProfile } from "../provisioner/token-profile.js";
import { readTokenStatus, type TokenStatus } from "../provisioner/token-status.js";
import { validatorClient } from "../provisioner/validator-client.js";
import { adminApi } from "./api-client.js";
import { wipeWithConfirmation } from "../provisioner/wipe.js";
import { registerPskcCommands } from "../provisioner/pskc/command.js";
import { registerBatchCommand } from "./batch-command.js";
import { addExportOptions, openExportTarget, type ExportOptions } from "../provisioner/pskc/export-target.js";

export function registerProvisionerCommands(program: Command): void {
  devicesCommand(program);
  provisionCommand(program);
  statusCommand(program);
  resyncCommand(program);
  wipeCommand(program);
  registerBatchCommand(program);
  registerPskcCommands(program, adminApi);
}

function describeOutcome(outcome: ProvisionOutcome): string {
  const t = outcome.timings;
  const lines = [
    `${stateSentence(outcome.state, outcome.serial)}${outcome.user ? ` to ${outcome.user}` : ""}`,
    `  algorithm ${outcome.algorithm}, clock ${outcome.verification ? `${outcome.verification.clockOffsetSeconds >= 0 ? "+" : ""}${outcome.verification.clockOffsetSeconds} s` : "?"} (${outcome.clockSource} reference)`,
    `  verified: ${outcome.verification?.checks.map((c) => `${c.name} ${c.ok ? "ok" : "FAILED"}`).join(", ") ?? "-"}`,
    `  write ${t.writeMs} ms, verify ${t.verifyMs} ms, register ${t.registerMs} ms, total ${(t.totalMs / 1000).toFixed(2)} s`,
  ];
  return lines.join("\n");
}

function devicesCommand(program: Command): void {
  addTargetOptions(program.command("devices").description("list connected tokens (serial ports, or a TCP hub) with serial number and state"), "3").action(
    async (options: TargetOptions) => {
      quietJacdac();
      const wait = waitMillis(options);
      const found: (TokenStatus & { port: string })[] = [];
      const notes: string[] = [];
      const targets: TargetOptions[] = [];
      if (options.port || options.tcp) targets.push(options);
      else {
        const listing = await listSerialPorts();
        if (listing.error) notes.push(listing.error);
        for (const port of tokenCandidates(listing.ports)) targets.push({ ...options, port: port.path });
        if (!listing.error && targets.length === 0) notes.push("no serial port of a known token board is connected");
      }
      for (const target of targets) {
        try {
          await withTokenBus(target, async (tokenBus) => {
            for (const token of await tokensOnBus(tokenBus, wait)) {
              found.push({ port: target.tcp ? `tcp://${target.tcp}` : target.port!, ...(await readTokenStatus(token, hostClock())) });
            }
          });
        } catch (error) {
          notes.push((error as Error).message);
        }
      }
      exitWhenDone();
      const text = found.length
        ? found.map((t) => `${t.port}  ${t.serial ?? "(blank)"}  ${t.provisioned ? "provisioned" : "not provisioned"}, clock ${t.clock}  [device ${t.deviceId}]`).join("\n")
        : "no token found";
      print(options, { tokens: found, notes }, [text, ...notes.map((n) => `note: ${n}`)].join("\n"));
      if (found.length === 0 && notes.length > 0 && (options.port || options.tcp)) process.exitCode = 4;
    },
  );
}

function provisionCommand(program: Command): void {
  const command = addTargetOptions(
    program
      .command("provision")
      .description("seed a blank token, verify it, register it with the validator and assign it to a user (JETON_URL, JETON_API_KEY)")
      .requiredOption("--user <academic id>", "the user who receives the token")
      .option("--serial <sn>", "serial number (default: a fresh one in the profile's format)")
      .addOption(new Option("--algorithm <name>", "TOTP algorithm (default from devicescript.json)").choices(["SHA256", "SHA1"]))
      .option("--show-otpauth", "also print the otpauth:// URI (contains the seed: for enrolling a software authenticator only)"),
  );
  addExportOptions(command).action(async (options: TargetOptions & ExportOptions & { user: string; serial?: string; algorithm?: string; showOtpauth?: boolean }) => {
    const profile = loadProvisionerProfile();
    const user = checkUser(options.user);
    const algorithm = checkAlgorithm(options.algorithm, profile.algorithm);
    const wait = waitMillis(options);
    const exportTarget = openExportTarget(options);
    const { validator, clock } = await preparedValidator(adminApi());
    let otpauth: string | undefined;
    let outcome: ProvisionOutcome;
    try {
      outcome = await withTokenBus(options, async (tokenBus) => {
        const token = await waitForOneToken(tokenBus, { timeoutMs: wait });
        return provisionToken(
          { user, serial: options.serial, algorithm },
          {
            token,
            validator,
            clock,
            profile,
            say,
            onSeed: (entry) => {
              exportTarget?.add(entry, profile);
              if (options.showOtpauth) otpauth = otpauthUri({ ...entry, digits: profile.digits, period: profile.period });
            },
          },
        );
      });
    } finally {
      // also after a failure: every seed that reached the validator belongs in the export
      if (exportTarget && exportTarget.count > 0) say(`PSKC: ${exportTarget.write()}`);
    }
    print(options, { ...outcome, ...(otpauth && { otpauth }) }, describeOutcome(outcome) + (otpauth ? `\n${otpauth}` : ""));
  });
}

function statusCommand(program: Command): void {
  addTargetOptions(program.command("status").description("what the token reports: serial, state, clock offset; and what the validator knows of it")).action(
    async (options: TargetOptions) => {
      const wait = waitMillis(options);
      // read-only diagnostics: the validator adds context when it answers, but is not required
      let validator = process.env.JETON_URL && process.env.JETON_API_KEY ? validatorClient(adminApi()) : undefined;
      let clock = hostClock();
      if (validator) {
        try {
          clock = await validatorReferenceClock(validator);
        } catch (error) {
          say(`note: ${(error as Error).message}; showing the token only, its clock against this computer's`);
          validator = undefined;
        }
      }
      const result = await withTokenBus(options, async (tokenBus) => {
        const token = await waitForOneToken(tokenBus, { timeoutMs: wait });
        const status = await readTokenStatus(token, clock);
        const registered = validator && status.serial ? ((await validator.findToken(status.serial)) ?? null) : undefined;
        return { ...status, ...(registered !== undefined && { validator: registered }) };
      });
      const lines = [
        `${result.serial ?? "(blank token)"}: ${result.provisioned ? `provisioned, ${result.algorithm}` : "not provisioned"}`,
        `  clock ${result.clock}${result.clockOffsetSeconds !== null ? `, ${result.clockOffsetSeconds >= 0 ? "+" : ""}${result.clockOffsetSeconds} s from the ${result.clockSource} clock` : ""}, set-time counter ${result.setTimeCounter}`,
        `  firmware ${result.firmwareVersion}, profile ${result.profile}`,
      ];
      if ("validator" in result) {
        const v = result.validator;
        lines.push(v ? `  validator: registered, ${v.user ? `assigned to ${v.user}` : "not assigned"}, ${v.status}, learned offset ${v.offsetSteps} steps` : "  validator: NOT registered");
      }
      print(options, result, lines.join("\n"));
    },
  );
}

function resyncCommand(program: Command): void {
  addTargetOptions(program.command("resync").description("measure the token's clock offset and drift rate, and correct them with an authenticated set-time and trim (JETON_URL, JETON_API_KEY)")).action(
    async (options: TargetOptions) => {
      const wait = waitMillis(options);
      const profile = loadProvisionerProfile();
      const { validator, clock } = await preparedValidator(adminApi());
      const outcome = await withTokenBus(options, async (tokenBus) => {
        const token = await waitForOneToken(tokenBus, { timeoutMs: wait });
        return resyncToken({ token, validator, clock, profile, say });
      });
      const sign = (n: number) => `${n >= 0 ? "+" : ""}${n}`;
      print(
        options,
        outcome,
        outcome.action === "in-sync"
          ? `${outcome.serial}: measured offset ${sign(outcome.measuredOffsetSeconds)} s — in sync, nothing to do`
          : `${outcome.serial}: measured offset ${sign(outcome.measuredOffsetSeconds)} s — corrected by authenticated set-time (counter ${outcome.counter}${outcome.trimPpb === undefined ? "" : `, trim ${sign(outcome.trimPpb)} ppb`}); now ${sign(outcome.offsetAfterSeconds)} s`,
      );
    },
  );
}

function wipeCommand(program: Command): void {
  addTargetOptions(program.command("wipe").description("erase the token's seed (confirm with the button on the token)")).action(async (options: TargetOptions) => {
    const wait = waitMillis(options);
    const outcome = await withTokenBus(options, async (tokenBus) => {
      const token = await waitForOneToken(tokenBus, { timeoutMs: wait });
      if (!(await token.provisioned())) throw new CommandFailure("the token is not provisioned: nothing to wipe", exitCodes.refused);
      const serial = await token.serial();
      const result = await wipeWithConfirmation(token, say);
      if (result !== TokenResult.Ok) {
        throw new CommandFailure(
          result === TokenResult.NotConfirmed ? `the button was not pressed in time: token ${serial} was NOT wiped` : `token ${serial} refused the wipe: ${resultName(result)}`,
          exitCodes.refused,
        );
      }
      return { serial, wiped: true };
    });
    print(options, outcome, `token ${outcome.serial} wiped (it holds no seed; its registration at the validator is unchanged — disable or reassign it there)`);
  });
}
