import type { Command } from "../command.ts";
import { parseFlags, UsageError } from "../args.ts";
import { checkConfig, ConfigError, loadConfigFile } from "../../config/load.ts";
import { Agent } from "../../agent/agent.ts";
import { createLogger } from "../../util/log.ts";
import type { XidsConfig } from "../../config/config.ts";

export const command: Command = {
  name: "run",
  summary: "run the core: data plane, plugins, control API",
  help: `usage: xids run [--config <file>] [--log-level debug|info|warn|error] [--log-format text|json]

Loads and checks the configuration (no file = the built-in defaults), attaches the XDP data
plane to dataplane.interfaces, starts the plugins in order (an external plugin's process is
supervised and restarted with backoff), serves the control API on control.socket (mode 0600),
and routes every ended flow: kernel verdict or model plugin -> block -> responders.
Stops cleanly (plugins in reverse order, XDP detached) on SIGINT or SIGTERM. SIGHUP reloads
the config file (as \`xids reload\`): what can change live is applied with XDP attached.
--log-level and --log-format override log.level and log.format (json: one object per line on stderr).

example: xids run --config core/config/xids.example.yaml`,
  async run(args, ctx) {
    const f = parseFlags(args, { config: "string", "log-level": "string", "log-format": "string" });
    if (f._.length !== 0) throw new UsageError("takes no operands: xids run [--config <file>]");
    let config: XidsConfig;
    try {
      if (f.config) config = loadConfigFile(f.config, ctx.catalog);
      else {
        const r = checkConfig({}, ctx.catalog);
        if (!r.ok) throw new ConfigError(r.issues);
        config = r.config;
      }
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      console.error(err.message);
      return 2;
    }
    const level = f["log-level"] ?? config.log.level;
    if (!["debug", "info", "warn", "error"].includes(level)) {
      console.error(`--log-level: expected one of debug, info, warn, error, got '${level}'`);
      return 2;
    }
    const format = f["log-format"] ?? config.log.format;
    if (format !== "text" && format !== "json") {
      console.error(`--log-format: expected text or json, got '${format}'`);
      return 2;
    }
    const log = createLogger("xids", level as XidsConfig["log"]["level"], undefined, format);
    log.info(`starting (config ${f.config ?? "built-in defaults"})`);
    let agent: Agent | null = null;
    // Before the start: a SIGHUP during it (an early `systemctl reload`) must not kill the agent.
    const reload = () => (agent ? void agent.reload({ configPath: f.config, catalog: ctx.catalog }) : log.warn("SIGHUP during start-up: ignored"));
    process.on("SIGHUP", reload);
    try {
      agent = await Agent.start(config, { configPath: f.config, log, catalog: ctx.catalog, artifacts: ctx.artifacts, shadow: ctx.shadow, explainer: ctx.explainer });
    } catch (err) {
      log.error(`start-up failed: ${(err as Error).message}`);
      // Exit now: whatever the failed start could not take back (a plugin's stream, a socket)
      // must not keep a half-started core alive.
      process.exit(1);
    }
    await new Promise<void>((resolve) => {
      const stop = (sig: string) => {
        log.info(`${sig}: stopping`);
        resolve();
      };
      process.once("SIGINT", () => stop("SIGINT"));
      process.once("SIGTERM", () => stop("SIGTERM"));
    });
    process.off("SIGHUP", reload);
    await agent.stop();
    return 0;
  },
};
