import type { Command } from "commander";
import { configFromEnvironment, trustProxyWarning } from "../validator/config.js";
import { serverTransport } from "../validator/http/transport.js";
import { createLogger } from "../validator/observability/logger.js";
import { packageVersion } from "./jeton.js";

export function serveCommand(program: Command): void {
  program
    .command("serve")
    .description(
      "run the validator (embedded SQLite in JETON_DATA_DIR unless DATABASE_URL is set; HTTPS with JETON_TLS_CERT_FILE and JETON_TLS_KEY_FILE); `npm start` runs this",
    )
    .option("--json", "print start-up information as one JSON line")
    .action(async (options: { json?: boolean }) => {
      const config = configFromEnvironment();
      // loaded when run: the server, storage and metrics modules would slow every other command's start
      const [{ buildHttpServer, buildMetricsServer }, { openConfiguredValidator }, { startRadiusServer }, { defaultConsoleOptions }] = await Promise.all([
        import("../validator/http/server.js"),
        import("../validator/validator.js"),
        import("../validator/radius/server.js"),
        import("../validator/console/console-server.js"),
      ]);
      const transport = serverTransport(config);
      const log = createLogger(config.logLevel);
      const { ctx, keyCreated } = await openConfiguredValidator(config);
      ctx.metrics.collectProcessMetrics();
      const app = buildHttpServer(ctx, {
        version: packageVersion(),
        logger: log,
        tls: transport.tls,
        console: { ...defaultConsoleOptions, limits: { ...defaultConsoleOptions.limits, ...config.console } },
        trustProxy: config.trustProxy,
      });
      // Every listener or none: a validator answering HTTP without its RADIUS or metrics listener would
      // look healthy to its supervisor while every NAS is dropped, so a listener that cannot start stops it.
      let radius: Awaited<ReturnType<typeof startRadiusServer>> | null = null;
      let metricsApp: ReturnType<typeof buildMetricsServer> | null = null;
      let address: string;
      let metricsAddress: string | null = null;
      try {
        address = await app.listen({ port: config.port, host: config.host });
        radius = config.radius
          ? await startRadiusServer(ctx, { ...config.radius, log: log.child({ frontDoor: "radius" }), logError: (message) => log.error({ event: "radius-error" }, message) })
          : null;
        metricsApp = config.metricsListener ? buildMetricsServer(ctx, { logger: log.child({ listener: "metrics" }) }) : null;
        metricsAddress = metricsApp && (await metricsApp.listen(config.metricsListener!));
      } catch (error) {
        await radius?.close();
        await app.close();
        await metricsApp?.close();
        await ctx.database.close();
        throw error;
      }
      if (transport.warning) log.warn({ event: "plain-http" }, transport.warning);
      const proxyWarning = trustProxyWarning(config);
      if (proxyWarning) log.warn({ event: "trust-proxy-all" }, proxyWarning);
      const radiusAddress = radius && `udp://${radius.address.address.includes(":") ? `[${radius.address.address}]` : radius.address.address}:${radius.address.port}`;
      // Before the start-up line, which whoever waits for the server reads as "ready".
      if (radiusAddress) log.info({ event: "radius-start", radius: radiusAddress }, `RADIUS listening on ${radiusAddress} (clients: jeton radius-client add)`);
      const started = {
        listening: address,
        ...(radiusAddress && { radius: radiusAddress }),
        ...(metricsAddress && { metrics: `${metricsAddress}/metrics` }),
        database: ctx.database.description,
        masterKeyFile: config.masterKeyFile,
        masterKeyCreated: keyCreated,
        timeZone: ctx.policy.timeZone,
      };
      if (options.json) process.stdout.write(JSON.stringify(started) + "\n");
      if (keyCreated) {
        log.warn(
          { event: "master-key-created", masterKeyFile: config.masterKeyFile },
          `Created the master key ${config.masterKeyFile} (mode 0600). Back it up apart from the database: without it no token seed can be read.`,
        );
      }
      log.info(
        { event: "start", ...started },
        `Jeton validator listening on ${address} (${started.database}, emergency passwords end 23:59 ${started.timeZone}). ` +
          `First API key: jeton keys create --role helpdesk (same environment as this server)`,
      );
      const stop = async () => {
        log.info({ event: "stop" }, "stopping");
        await radius?.close();
        await app.close();
        await metricsApp?.close();
        await ctx.database.close();
        process.exit(0);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
}
