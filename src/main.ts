#!/usr/bin/env node
import { join } from 'node:path';
import closeWithGrace from 'close-with-grace';
import { pino } from 'pino';
import { checkCommand, prepareAnswersDir } from './check.js';
import { ConfigError, helpText, loadConfig, type Command, type Config } from './config/index.js';
import { formatDuration } from './config/values.js';
import { withDemoApi, withDemoOrganizations } from './demo.js';
import { focusMain } from './focus/cli.js';
import { createExporter, type Exporter } from './exporter.js';
import { createLogger } from './logger.js';
import { VERSION } from './version.js';
import { WebConfigError } from './web-config.js';

/** Grace period for in-flight scrapes and refreshes on SIGTERM/SIGINT. */
const SHUTDOWN_GRACE_MS = 10_000;

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  if (argv[0] === 'focus') {
    process.exitCode = await focusMain(argv.slice(1), env);
    return;
  }
  let command: Command;
  try {
    command = loadConfig({ argv, env });
    if (command.kind === 'check' && command.saveAnswers !== undefined) prepareAnswersDir(command.saveAnswers);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`mistral-admin-exporter: ${err.message}\n`);
    process.exitCode = 2;
    return;
  }
  if (command.kind === 'help') {
    process.stdout.write(helpText(VERSION));
    return;
  }
  if (command.kind === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return;
  }

  // With --demo, a simulated Admin API in this process, with a key of its own (one per organization of a config file).
  const organizations = command.kind === 'backfill' ? undefined : await withDemoOrganizations(command.organizations);
  const demo = organizations === undefined ? await withDemoApi(command.config) : { config: command.config, close: undefined };
  const config: Config = demo.config;
  const closeSimulator = async () => {
    await demo.close?.();
    await organizations?.close();
  };

  // Both secrets are scrubbed from every log line: the admin key, and the key that makes user pseudonyms unlinkable.
  const secrets = [config, ...(organizations?.list ?? []).map((o) => o.config)].flatMap((c) =>
    [c.apiKey, c.analytics.userIdHashKey].flatMap((s) => (s ? [s.reveal()] : [])),
  );

  if (command.kind === 'backfill') {
    // stderr carries the progress bar, warnings and the summary; LOG_LEVEL=debug shows every request.
    const level = config.logLevel === 'info' ? 'warn' : config.logLevel;
    if (config.demo) process.stderr.write('DEMO MODE: backfilling from the built-in simulator; no request goes to Mistral\n');
    const { backfillCommand } = await import('./backfill/command.js');
    try {
      process.exitCode = await backfillCommand(config, command.backfill, { level, secrets, stderr: process.stderr });
    } finally {
      await closeSimulator();
    }
    return;
  }

  if (command.kind === 'check') {
    // The table on stdout is check's report; logs go to stderr, warnings only unless LOG_LEVEL asks for more than info.
    const level = config.logLevel === 'info' ? 'warn' : config.logLevel;
    const logger = createLogger({ level, secrets, destination: pino.destination({ dest: 2, sync: true }) });
    // `check | head` closes the pipe early: that ends the output, not with a crash.
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
    const write = (text: string) => process.stdout.write(text);
    try {
      if (organizations === undefined) {
        process.exitCode = await checkCommand(config, { logger, saveAnswers: command.saveAnswers, write });
      } else {
        // Each organization in turn, its table under its name; its answers in a directory of its own. Exit 1 if any did not pass.
        let code = 0;
        for (const org of organizations.list) {
          write(`${org === organizations.list[0] ? '' : '\n'}Organization ${org.name}\n\n`);
          const saveAnswers = command.saveAnswers === undefined ? undefined : join(command.saveAnswers, org.name);
          if (saveAnswers !== undefined) prepareAnswersDir(saveAnswers);
          code = Math.max(code, await checkCommand(org.config, { logger: logger.child({ org: org.name }), saveAnswers, write }));
        }
        process.exitCode = code;
      }
    } finally {
      await closeSimulator();
    }
    return;
  }

  let exporter: Exporter | undefined;
  // The key may be re-read from its file: its values so far are scrubbed too.
  const logger = createLogger({ level: config.logLevel, secrets: () => [...secrets, ...(exporter?.secrets() ?? [])] });
  if (config.demo) {
    logger.warn(
      {
        api_url: organizations === undefined ? config.apiUrl : organizations.list.map((o) => o.config.apiUrl),
        demo_profile: config.demoProfile,
      },
      'DEMO MODE: serving simulated data from a built-in fake Admin API; no request goes to Mistral and any configured key is ignored',
    );
  }

  try {
    exporter = createExporter(config, { logger }, organizations?.list);
  } catch (err) {
    if (!(err instanceof WebConfigError)) throw err;
    process.stderr.write(`mistral-admin-exporter: ${err.message}\n`);
    await closeSimulator();
    process.exitCode = 2;
    return;
  }
  try {
    await exporter.app.listen({ host: config.host, port: config.port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    process.stderr.write(`mistral-admin-exporter: cannot listen on ${config.host}:${config.port} (${code}); set HOST or PORT\n`);
    await exporter.close();
    await closeSimulator();
    process.exitCode = 1;
    return;
  }
  exporter.start();
  exporter.watchFiles();
  const settingsOf = (c: Config) => ({
    api_url: c.apiUrl,
    refresh_intervals: Object.fromEntries(Object.entries(c.refreshIntervalsMs).map(([e, ms]) => [e, formatDuration(ms)])),
    max_staleness: formatDuration(c.maxStalenessMs),
    workspaces: c.workspaceIds === 'all' ? `all (at most ${c.maxWorkspaces})` : c.workspaceIds.length,
  });
  if (organizations === undefined) {
    logger.info({ version: VERSION, ...settingsOf(config) }, `serving /metrics on ${exporter.app.listeningOrigin}`);
  } else {
    for (const org of organizations.list) logger.info({ org: org.name, ...settingsOf(org.config) }, `reading organization ${org.name}`);
    logger.info(
      { version: VERSION, organizations: organizations.list.length },
      `serving /metrics on ${exporter.app.listeningOrigin} for ${organizations.list.length} organizations`,
    );
  }

  closeWithGrace({ delay: SHUTDOWN_GRACE_MS, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an unexpected error');
    else logger.info({ signal }, 'shutting down');
    await exporter?.app.close();
    await exporter?.close();
    await closeSimulator();
  });
}

main(process.argv.slice(2), process.env).catch((err: unknown) => {
  process.stderr.write(`mistral-admin-exporter: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
