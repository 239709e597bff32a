/**
 * `mistral-admin-exporter focus [--month YYYY-MM] [--output FILE.csv]`: one
 * billing month's usage as FinOps FOCUS 1.1 rows, in CSV (see README,
 * "FinOps export (FOCUS)"). The exporter's settings (key, URL, workspaces,
 * USAGE_ASSUMED_SERVICE_TIER, timeouts, --demo) apply as they are. Progress
 * and warnings go to stderr; the CSV to the file, or to stdout.
 *
 * Exit code: 0 when the month was read and priced whole; 1 when the file
 * was written without some usage (entries that could not be read or
 * priced: stderr says which and what to do) or `usage` could not be read
 * (no file then); 2 on a bad flag or setting.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { AdminApiError, type RetryPolicy } from '../admin-api/types.js';
import { systemClock, type Clock } from '../clock.js';
import { ConfigError, helpText, loadConfig, type Config } from '../config/index.js';
import { withDemoApi } from '../demo.js';
import { createLogger } from '../logger.js';
import { ADVICE } from '../advice.js';
import { scrub } from '../secret.js';
import { ParseError } from '../sources/types.js';
import { VERSION } from '../version.js';
import { FOCUS_VERSION } from './columns.js';
import { DEFAULT_BILLING_ACCOUNT_ID } from './help.js';
import { focusCsv } from './csv.js';
import { readFocusExport, type BillingMonth, type FocusExport } from './read.js';

/** The flags of `focus` itself; every other argument is the exporter's. */
const FOCUS_FLAGS = ['month', 'output', 'billing-account-id', 'billing-account-name'] as const;
type FocusFlag = (typeof FOCUS_FLAGS)[number];

export interface FocusCliDeps {
  clock?: Clock;
  retry?: RetryPolicy;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

interface FocusArgs {
  month: BillingMonth | undefined;
  output: string | undefined;
  /** --billing-account-id; undefined when not given. */
  accountId: string | undefined;
  accountName: string | undefined;
  rest: string[];
}

/** Takes focus's own flags (`--month X` or `--month=X`) out of `argv`. */
function splitArgs(argv: readonly string[]): FocusArgs {
  const own: Partial<Record<FocusFlag, string>> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    const flag = FOCUS_FLAGS.find((f) => f === m?.[1]);
    if (m === null || flag === undefined) {
      rest.push(arg);
      continue;
    }
    const value = m[2] ?? argv[++i];
    if (value === undefined || value.trim() === '') throw new ConfigError(`--${flag}: give a value (see --help)`);
    if (own[flag] !== undefined) throw new ConfigError(`--${flag} is given twice`);
    own[flag] = value;
  }
  return {
    month: own.month === undefined ? undefined : parseMonth(own.month),
    output: own.output === '-' ? undefined : own.output,
    accountId: own['billing-account-id']?.trim(),
    accountName: own['billing-account-name']?.trim(),
    rest,
  };
}

export function parseMonth(text: string): BillingMonth {
  const m = /^(\d{4})-(\d{2})$/.exec(text.trim());
  const month = Number(m?.[2]);
  if (m === null || month < 1 || month > 12)
    throw new ConfigError(`--month=${JSON.stringify(text)}: give a month as YYYY-MM, e.g. 2026-11`);
  return { year: Number(m[1]), month };
}

function monthText(m: BillingMonth): string {
  return `${m.year}-${String(m.month).padStart(2, '0')}`;
}

/** Why `usage` could not be read, and what to do, in one line. */
function failureText(err: unknown): string {
  if (err instanceof ParseError) return `the usage answer could not be understood (${err.message})`;
  if (err instanceof AdminApiError) {
    if (err.kind === 'http' && err.status === 401) return ADVICE.unauthorized;
    if (err.kind === 'http' && err.status === 403) return ADVICE.forbidden;
    if (err.kind === 'not_found') return ADVICE.notFound;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Writes `text` to `path` whole or not at all: an interrupted run leaves no half file. */
function writeWhole(path: string, text: string): void {
  const partial = `${path}.partial`;
  try {
    writeFileSync(partial, text);
    renameSync(partial, path);
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
}

function summary(result: FocusExport, month: BillingMonth, where: string): string {
  const totals = [...result.totals].map(([currency, sum]) => `${sum.toFixed(2)} ${currency}`).join(', ') || 'no cost';
  const scope = result.workspaces > 0 ? `${result.workspaces} workspace${result.workspaces === 1 ? '' : 's'}` : 'the organization';
  return (
    `focus: ${result.rows.length} rows of ${monthText(month)} (${scope}, FOCUS ${FOCUS_VERSION}) written to ${where}; ` +
    `BilledCost ${totals} (computed from usage and its unit prices); ${result.calls.requests} requests\n`
  );
}

/** Standard output, where `focus | head` closing the pipe early ends the output, not with a crash. */
function writeStdout(text: string): void {
  process.stdout.once('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
  process.stdout.write(text);
}

/** Runs `focus` with the arguments after it; returns the exit code. */
export async function focusMain(argv: readonly string[], env: NodeJS.ProcessEnv, deps: FocusCliDeps = {}): Promise<number> {
  const out = deps.stdout ?? writeStdout;
  const err = deps.stderr ?? ((t: string) => process.stderr.write(t));
  const clock = deps.clock ?? systemClock;
  let args: FocusArgs;
  let config: Config;
  let accountId: string;
  try {
    args = splitArgs(argv);
    const command = loadConfig({ argv: args.rest, env, oneOrganization: true });
    if (command.kind === 'help') {
      out(helpText(VERSION));
      return 0;
    }
    if (command.kind === 'version') {
      out(`${VERSION}\n`);
      return 0;
    }
    if (command.kind !== 'run') throw new ConfigError(`focus takes no command after it (see --help)`);
    if (command.organizations !== undefined) throw new ConfigError('focus reads one organization: name it with --org');
    config = command.config;
    // An organization of a config file is its own billing account, by its name.
    accountId = args.accountId ?? command.org ?? DEFAULT_BILLING_ACCOUNT_ID;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err(`mistral-admin-exporter focus: ${e.message}\n`);
    return 2;
  }

  const now = new Date(clock.now());
  const month = args.month ?? { year: now.getUTCFullYear(), month: now.getUTCMonth() + 1 };
  const demo = await withDemoApi(config);
  const secrets = [demo.config.apiKey, demo.config.analytics.userIdHashKey].flatMap((s) => (s ? [s.reveal()] : []));
  const say = (text: string) => err(scrub(text, secrets));
  // Warnings only (LOG_LEVEL may ask for more), as JSON lines on stderr, the key scrubbed.
  const level = demo.config.logLevel === 'info' ? 'warn' : demo.config.logLevel;
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      err(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level, secrets, destination });
  const source = config.demo ? 'the built-in simulator (--demo: simulated data)' : demo.config.apiUrl;
  const scope = config.workspaceIds.length > 0 ? ` for ${config.workspaceIds.length} workspaces` : '';
  say(`focus: reading usage of ${monthText(month)}${scope} from ${source}\n`);

  let result: FocusExport;
  try {
    result = await readFocusExport(
      demo.config,
      month,
      { id: accountId, name: args.accountName || undefined },
      {
        logger,
        clock,
        retry: deps.retry,
        progress: (done, total) => {
          if (total > 1) say(`focus: ${done} of ${total} workspaces read\n`);
        },
      },
    );
  } catch (e) {
    say(`mistral-admin-exporter focus: GET usage of ${monthText(month)} failed: ${failureText(e)}; no file written\n`);
    return 1;
  } finally {
    await demo.close?.();
  }

  const csv = focusCsv(result.rows);
  if (args.output === undefined) out(csv);
  else {
    try {
      writeWhole(args.output, csv);
    } catch (e) {
      say(`mistral-admin-exporter focus: cannot write ${args.output} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})\n`);
      return 1;
    }
  }
  say(summary(result, month, args.output ?? 'stdout'));

  let whole = true;
  const unreadable = Object.values(result.unreadable).reduce((n, u) => n + u.count, 0);
  if (unreadable > 0) {
    whole = false;
    const first = Object.values(result.unreadable)[0]?.example;
    say(
      `focus: ${unreadable} usage entries could not be read and are not in the file (first: ${first}); run check --save-answers DIR and attach the files to a bug report\n`,
    );
  }
  if (result.unpricedEntries > 0) {
    whole = false;
    say(
      `focus: ${result.unpricedEntries} usage entries have no single matching unit price: their usage is not in the file (FOCUS allows no row without a cost); ` +
        'where the warning above names service_tier, set USAGE_ASSUMED_SERVICE_TIER\n',
    );
  }
  if (result.undatedEntries > 0) {
    say(`focus: ${result.undatedEntries} usage entries name no readable day: their rows cover the whole month (ChargePeriodStart/End)\n`);
  }
  return whole ? 0 : 1;
}
