#!/usr/bin/env node
import closeWithGrace from 'close-with-grace';
import { pino } from 'pino';
import { checkCommand, prepareAnswersDir } from './check.js';
import { ConfigError, helpText, loadConfig, type Command, type Config } from './config/index.js';
import { formatDuration } from './config/values.js';
import { withDemoApi } from './demo.js';
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

  // With --demo, a simulated Admin API in this process, with a key of its own.
  const demo = await withDemoApi(command.config);
  const config: Config = demo.config;
  const closeSimulator = demo.close;

  // Both secrets are scrubbed from every log line: the admin key, and the key that makes user pseudonyms unlinkable.
  const secrets = [config.apiKey, config.analytics.userIdHashKey].flatMap((s) => (s ? [s.reveal()] : []));

  if (command.kind === 'backfill') {
    // stderr carries the progress bar, warnings and the summary; LOG_LEVEL=debug shows every request.
    const level = config.logLevel === 'info' ? 'warn' : config.logLevel;
    if (config.demo) process.stderr.write('DEMO MODE: backfilling from the built-in simulator; no request goes to Mistral\n');
    const { backfillCommand } = await import('./backfill/command.js');
    try {
      process.exitCode = await backfillCommand(config, command.backfill, { level, secrets, stderr: process.stderr });
    } finally {
      await closeSimulator?.();
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
    try {
      process.exitCode = await checkCommand(config, {
        logger,
        saveAnswers: command.saveAnswers,
        write: (text) => process.stdout.write(text),
      });
    } finally {
      await closeSimulator?.();
    }
    return;
  }

  let exporter: Exporter | undefined;
  // The key may be re-read from its file: its values so far are scrubbed too.
  const logger = createLogger({ level: config.logLevel, secrets: () => [...secrets, ...(exporter?.secrets() ?? [])] });
  if (config.demo) {
    logger.warn(
      { api_url: config.apiUrl, demo_profile: config.demoProfile },
      'DEMO MODE: serving simulated data from a built-in fake Admin API; no request goes to Mistral and any configured key is ignored',
    );
  }

  try {
    exporter = createExporter(config, { logger });
  } catch (err) {
    if (!(err instanceof WebConfigError)) throw err;
    process.stderr.write(`mistral-admin-exporter: ${err.message}\n`);
    await closeSimulator?.();
    process.exitCode = 2;
    return;
  }
  try {
    await exporter.app.listen({ host: config.host, port: config.port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    process.stderr.write(`mistral-admin-exporter: cannot listen on ${config.host}:${config.port} (${code}); set HOST or PORT\n`);
    await exporter.close();
    await closeSimulator?.();
    process.exitCode = 1;
    return;
  }
  exporter.scheduler.start();
  exporter.watchFiles();
  logger.info(
    {
      version: VERSION,
      api_url: config.apiUrl,
      refresh_intervals: Object.fromEntries(Object.entries(config.refreshIntervalsMs).map(([e, ms]) => [e, formatDuration(ms)])),
      max_staleness: formatDuration(config.maxStalenessMs),
      workspaces: config.workspaceIds === 'all' ? `all (at most ${config.maxWorkspaces})` : config.workspaceIds.length,
    },
    `serving /metrics on ${exporter.app.listeningOrigin}`,
  );

  closeWithGrace({ delay: SHUTDOWN_GRACE_MS, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an unexpected error');
    else logger.info({ signal }, 'shutting down');
    await exporter?.app.close();
    await exporter?.close();
    await closeSimulator?.();
  });
}

main(process.argv.slice(2), process.env).catch((err: unknown) => {
  process.stderr.write(`mistral-admin-exporter: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
