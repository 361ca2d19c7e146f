import type { Command } from "commander";
import { configFromEnvironment } from "../config.js";
import { defaultConsoleOptions } from "../console/console-server.js";
import { buildHttpServer } from "../http/server.js";
import { openConfiguredValidator } from "../validator.js";
import { packageVersion } from "./jeton.js";

export function serveCommand(program: Command): void {
  program
    .command("serve")
    .description("run the validator (embedded SQLite in JETON_DATA_DIR unless DATABASE_URL is set); `npm start` runs this")
    .option("--json", "print start-up information as one JSON line")
    .action(async (options: { json?: boolean }) => {
      const config = configFromEnvironment();
      const { ctx, keyCreated } = await openConfiguredValidator(config);
      const app = buildHttpServer(ctx, {
        version: packageVersion(),
        logError: (error) => process.stderr.write(`jeton: internal error: ${error.stack ?? error.message}\n`),
        console: { ...defaultConsoleOptions, limits: { ...defaultConsoleOptions.limits, ...config.console } },
        trustProxy: config.trustProxy,
      });
      const address = await app.listen({ port: config.port, host: config.host });
      const started = { listening: address, database: ctx.database.description, masterKeyFile: config.masterKeyFile, masterKeyCreated: keyCreated, timeZone: ctx.policy.timeZone };
      if (options.json) {
        process.stdout.write(JSON.stringify(started) + "\n");
      } else {
        // One write, so whoever reads the output sees the whole start-up message at once.
        process.stdout.write(
          (keyCreated
            ? `Created the master key ${config.masterKeyFile} (mode 0600). Back it up apart from the database: without it no token seed can be read.\n`
            : "") +
            `Jeton validator listening on ${address} (${started.database}, emergency passwords end 23:59 ${started.timeZone})\n` +
            `First API key: jeton keys create --role helpdesk   (same environment as this server)\n`,
        );
      }
      const stop = async () => {
        await app.close();
        await ctx.database.close();
        process.exit(0);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
}
