/**
 * `mistral-admin-exporter check`: each enabled endpoint read once, through
 * the client and the source readers a start uses, without the HTTP server
 * or the refresh loops; a table of what came back and what to do about each
 * problem. `formatCheck` is pure (results in, text out); `runCheck` does the
 * calls; `saveAnswers` writes the anonymized answers for a bug report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { isTlsFailure } from './admin-api/client.js';
import { AdminApiError, type ApiResponse, type ClientObserver, type QueryValue, type RetryPolicy } from './admin-api/types.js';
import { Anonymizer } from './anonymize.js';
import { deadlineSignal, systemClock, type Clock } from './clock.js';
import { ConfigError, type Config } from './config/index.js';
import { formatDuration } from './config/values.js';
import type { ApiEndpoint } from './endpoints.js';
import { createApiClient } from './exporter.js';
import { createLogger, type Logger } from './logger.js';
import { FirstTries, type Peers } from './peers.js';
import { ADVICE } from './scheduler.js';
import { scrub } from './secret.js';
import { createSources, readerOptionsOf } from './sources/catalog.js';
import { ParseError, type Source, type Unreadable } from './sources/types.js';
import { VERSION } from './version.js';

/** One request's answer, as the source read it. */
export interface RecordedAnswer {
  query: Record<string, QueryValue>;
  response: ApiResponse;
}

/** What reading one endpoint once gave. */
export interface CheckResult {
  endpoint: ApiEndpoint;
  /** The path that answered, relative to the base URL; else the one a failure names, if any. */
  path: string | undefined;
  /** Requests sent again after a 429, a 5xx, a timeout or a network error. */
  retries: number;
  /** Every answer the source was given, in arrival order. */
  answers: RecordedAnswer[];
  /** Series made from the answer(s); undefined when it was not read. */
  series: number | undefined;
  /** Entries skipped because they could not be read; undefined when the answer was not read. */
  unreadable: Unreadable | undefined;
  /** Why the endpoint could not be read: an AdminApiError, a ParseError (the answer refused), or anything else. */
  error: unknown;
  /** What the source warned about while reading (e.g. usage entries with no price), one line each. */
  notes: string[];
}

export interface CheckReport {
  apiUrl: string;
  pathLayout: string;
  demo: boolean;
  results: CheckResult[];
  /** Where the answers were written, when asked. */
  saveAnswers?: string;
}

/** Every endpoint answered and was read whole. */
export function checkPassed(results: readonly CheckResult[]): boolean {
  return results.every((r) => r.error === undefined && Object.keys(r.unreadable ?? {}).length === 0);
}

// ---------------------------------------------------------------- the table

type Verdict = 'ok' | 'PARTIAL' | 'FAILED';

function verdict(r: CheckResult): Verdict {
  if (r.error !== undefined) return 'FAILED';
  return Object.keys(r.unreadable ?? {}).length > 0 ? 'PARTIAL' : 'ok';
}

function lastStatus(r: CheckResult): number | undefined {
  return r.answers[r.answers.length - 1]?.response.status;
}

function statusText(r: CheckResult): string {
  const err = r.error;
  let text: string;
  if (err instanceof AdminApiError) {
    switch (err.kind) {
      case 'network':
        text = err.details.code ?? 'network error';
        break;
      case 'timeout':
        text = 'timeout';
        break;
      case 'aborted':
        text = 'gave up';
        break;
      case 'not_found':
        text = '404';
        break;
      default:
        text = err.status === undefined ? err.kind : String(err.status);
    }
  } else {
    text = String(lastStatus(r) ?? '-');
  }
  return r.retries > 0 ? `${text} (${r.retries} ${r.retries === 1 ? 'retry' : 'retries'})` : text;
}

function skippedText(u: Unreadable | undefined): string {
  if (u === undefined) return '-';
  const parts = Object.entries(u).map(([reason, e]) => `${reason} ${e.count}`);
  return parts.length === 0 ? '0' : parts.join(', ');
}

function refusedText(r: CheckResult): string {
  if (r.error instanceof ParseError) return r.error.reason;
  if (r.error instanceof AdminApiError && r.error.kind === 'invalid_json') return 'not JSON';
  return r.error === undefined ? 'no' : '-';
}

function pathText(r: CheckResult): string {
  if (r.path !== undefined) return r.path;
  return r.error instanceof AdminApiError && r.error.kind === 'not_found' ? '(none answered)' : '-';
}

/** Left-aligned columns, two spaces apart; the last column is not padded. */
function columns(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => row[i]?.length ?? 0))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

const PRODUCTS: ReadonlyArray<[prefix: string, product: string]> = [
  ['lechat_', 'le Chat'],
  ['vibe_', 'Vibe Code'],
  ['audit_', 'access to the audit log'],
];

function hostOf(apiUrl: string): string {
  try {
    return new URL(apiUrl).host;
  } catch {
    return apiUrl;
  }
}

/** A network error's advice, by its code. */
function networkAdvice(code: string | undefined, host: string): string {
  if (code !== undefined && isTlsFailure(code)) {
    return (
      `the TLS certificate of ${host} did not verify (${code}): behind a proxy that inspects TLS, ` +
      'point NODE_EXTRA_CA_CERTS at its CA certificate (a PEM file); else check the scheme, host and port of MISTRAL_ADMIN_API_URL'
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return (
      `the host name ${host} was not found (${code}): check MISTRAL_ADMIN_API_URL; ` +
      'where only a proxy reaches the internet, set HTTPS_PROXY (and NO_PROXY for hosts reached directly)'
    );
  }
  if (code === 'ECONNREFUSED') {
    return `${host} refused the connection: check the host and port of MISTRAL_ADMIN_API_URL, and HTTPS_PROXY/NO_PROXY if a proxy is in the way`;
  }
  return (
    `the connection to ${host} failed${code === undefined ? '' : ` (${code})`}: check MISTRAL_ADMIN_API_URL, ` +
    'HTTPS_PROXY/NO_PROXY, and NODE_EXTRA_CA_CERTS if a proxy inspects TLS'
  );
}

const ATTACH = (dir: string | undefined) =>
  dir === undefined
    ? 'run check --save-answers DIR and attach the files to a bug report'
    : `attach the files of ${dir} to a bug report (ids, names and emails are replaced; look them over first)`;

/** What to do about one endpoint's problem, and the detail that shows it; undefined when there is none. */
function advise(r: CheckResult, report: CheckReport): { advice: string; detail?: string } | undefined {
  const err = r.error;
  if (err === undefined) {
    const entries = Object.entries(r.unreadable ?? {});
    if (entries.length === 0) return undefined;
    const total = entries.reduce((n, [, e]) => n + e.count, 0);
    return {
      advice: `${total} entr${total === 1 ? 'y' : 'ies'} of the answer could not be read and ${total === 1 ? 'was' : 'were'} left out (the rest is served): ${ATTACH(report.saveAnswers)}`,
      detail: `first: ${entries[0]?.[1].example}`,
    };
  }
  if (err instanceof ParseError) {
    return {
      advice: `the answer could not be understood, so a start would serve no data of this endpoint: ${ATTACH(report.saveAnswers)}`,
      detail: err.message,
    };
  }
  if (!(err instanceof AdminApiError)) {
    const message = err instanceof Error ? err.message : String(err);
    return { advice: 'reading failed unexpectedly: please report it', detail: message };
  }
  const detail = err.message;
  switch (err.kind) {
    case 'http': {
      if (err.status === 401) return { advice: ADVICE.unauthorized, detail };
      if (err.status === 403) {
        const product = PRODUCTS.find(([prefix]) => r.endpoint.startsWith(prefix))?.[1];
        const leaveOut =
          product !== undefined
            ? `; an organization without ${product} can leave ${r.endpoint} out of MISTRAL_ENDPOINTS`
            : r.endpoint === 'api_keys'
              ? '; a key not allowed to list API keys can leave api_keys out of MISTRAL_ENDPOINTS (the rest is read)'
              : r.endpoint === 'users' || r.endpoint === 'users_invite'
                ? `; a key not allowed to list members and invitations can leave ${r.endpoint} out of MISTRAL_ENDPOINTS (the rest is read)`
                : '';
        return { advice: `${ADVICE.forbidden}${leaveOut}`, detail };
      }
      if (err.status === 422 && r.endpoint === 'audit_events') {
        return {
          advice: 'the Admin API refused the query (422): check that each name of AUDIT_EVENT_TYPES is one of its event types',
          detail,
        };
      }
      if (err.status !== undefined && err.status >= 500) return { advice: 'the Admin API is failing: try again later', detail };
      return { advice: `the Admin API did not accept the request: ${ATTACH(report.saveAnswers)}`, detail };
    }
    case 'not_found':
      return { advice: ADVICE.notFound, detail };
    case 'rate_limited':
      return { advice: `${ADVICE.rateLimited}: try again later, or lower MAX_CONCURRENT_REQUESTS`, detail };
    case 'too_large':
      return { advice: `${ADVICE.tooLarge}: raise it`, detail };
    case 'invalid_json':
      return {
        advice: 'the answer is not JSON: check that MISTRAL_ADMIN_API_URL is the Admin API, not a proxy or a login page (and HTTPS_PROXY)',
        detail,
      };
    case 'timeout':
      return {
        advice:
          'no answer in time: check that MISTRAL_ADMIN_API_URL is reachable from here (a firewall, or a proxy: HTTPS_PROXY/NO_PROXY), or raise REQUEST_TIMEOUT',
        detail,
      };
    case 'network':
      return { advice: networkAdvice(err.details.code, hostOf(report.apiUrl)), detail };
    case 'aborted':
      return { advice: 'gave up before an answer came: try again, or raise REQUEST_TIMEOUT', detail };
  }
}

/** The table `check` prints, and what to do about each problem. Pure. */
export function formatCheck(report: CheckReport): string {
  const { results } = report;
  const source = report.demo ? 'the built-in simulator, --demo: simulated data' : `path layout ${report.pathLayout}`;
  const lines = [`Admin API: ${report.apiUrl} (${source})`, ''];
  const header = ['RESULT', 'ENDPOINT', 'PATH', 'STATUS', 'SERIES', 'SKIPPED', 'REFUSED'];
  const rows = results.map((r) => [
    verdict(r),
    r.endpoint,
    pathText(r),
    statusText(r),
    r.series === undefined ? '-' : String(r.series),
    skippedText(r.unreadable),
    refusedText(r),
  ]);
  lines.push(...columns([header, ...rows]));

  // The same advice for several endpoints (a wrong URL fails them all) is given once, with the first one's detail.
  const problems = new Map<string, { endpoints: string[]; detail: string | undefined }>();
  for (const r of results) {
    const a = advise(r, report);
    if (a === undefined) continue;
    const seen = problems.get(a.advice);
    if (seen) seen.endpoints.push(r.endpoint);
    else problems.set(a.advice, { endpoints: [r.endpoint], detail: a.detail });
  }
  const failing = [...problems.values()].reduce((n, p) => n + p.endpoints.length, 0);
  lines.push('');
  if (failing === 0) {
    lines.push(`Every endpoint answered and was read whole (${results.length} of ${results.length}).`);
  } else {
    lines.push('What to do:');
    for (const [advice, { endpoints, detail }] of problems) {
      const who = endpoints.length > 1 && endpoints.length === results.length ? 'every endpoint' : endpoints.join(', ');
      lines.push(`  ${who}: ${advice}`);
      if (detail !== undefined) lines.push(`    (${endpoints.length > 1 ? `${endpoints[0]}: ` : ''}${detail.replace(/\s+/g, ' ')})`);
    }
    lines.push('', `${failing} of ${results.length} endpoints have a problem.`);
  }
  const notes = results.flatMap((r) => r.notes.map((n) => `  ${r.endpoint}: ${n}`));
  if (notes.length > 0) lines.push('', 'Notes (what a start would log; no action needed unless a figure you need is missing):', ...notes);
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------- the calls

/** Counts each endpoint's retries (the client reports them here). */
class RetryCounter implements ClientObserver {
  readonly retries = new Map<ApiEndpoint, number>();

  request(): void {}
  retry(endpoint: ApiEndpoint): void {
    this.retries.set(endpoint, (this.retries.get(endpoint) ?? 0) + 1);
  }
  pathInUse(): void {}
}

/** The documented Admin API hosts: a refused connection there may be an outage, retried as usual. */
function isMistralHost(apiUrl: string): boolean {
  const host = hostOf(apiUrl).replace(/:\d+$/, '');
  return host === 'mistral.ai' || host.endsWith('.mistral.ai');
}

/**
 * What check reports at once rather than retries: a certificate that does
 * not verify, a host DNS does not know, and a refused connection to a host
 * other than Mistral's (a wrong URL, not an outage).
 */
function checkFailFast(apiUrl: string): (code: string) => boolean {
  const mistral = isMistralHost(apiUrl);
  return (code) => isTlsFailure(code) || code === 'ENOTFOUND' || (code === 'ECONNREFUSED' && !mistral);
}

export interface CheckDeps {
  logger: Logger;
  clock?: Clock;
  retry?: RetryPolicy;
}

/** Reads each endpoint of the configuration once, in parallel (under MAX_CONCURRENT_REQUESTS), in the catalog's order. */
export async function runCheck(config: Config, deps: CheckDeps): Promise<CheckResult[]> {
  const clock = deps.clock ?? systemClock;
  const observer = new RetryCounter();
  const client = createApiClient(config, {
    logger: deps.logger,
    clock,
    retry: deps.retry,
    observer,
    failFast: checkFailFast(config.apiUrl),
  });
  const sources = createSources(config.endpoints, readerOptionsOf(config));
  // As in the exporter, a reader that follows another endpoint reads what that one shared once it was tried.
  const firstTries = new FirstTries(sources.map((s) => s.endpoint));
  const shared = new Map<ApiEndpoint, unknown>();
  const peers: Peers = { latest: (endpoint) => shared.get(endpoint), tried: (endpoint, signal) => firstTries.wait(endpoint, signal) };
  const readOne = async (source: Source) => {
    try {
      return await readOnce(source, config, client, clock, secretsOf(config), peers, (value) => shared.set(source.endpoint, value));
    } finally {
      firstTries.done(source.endpoint);
    }
  };
  try {
    const read = await Promise.all(sources.map(readOne));
    return read.map((r) => ({ ...r, retries: observer.retries.get(r.endpoint) ?? 0 }));
  } finally {
    await client.close();
  }
}

/** The admin key, and the key that makes user pseudonyms unlinkable: in nothing check writes. */
function secretsOf(config: Config): string[] {
  return [config.apiKey, config.analytics.userIdHashKey].flatMap((s) => (s ? [s.reveal()] : []));
}

/** A logger for a source whose warnings become the notes of its row: the message, then its fields. */
function noteTaker(secrets: readonly string[]): { logger: Logger; notes: string[] } {
  const notes: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const { msg, level: _l, time: _t, name: _n, api_endpoint: _e, ...fields } = JSON.parse(chunk.toString()) as Record<string, unknown>;
      const shown = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
      notes.push(shown.length === 0 ? String(msg) : `${String(msg)} (${shown.join(', ')})`);
      done();
    },
  });
  return { logger: createLogger({ level: 'warn', secrets, destination }), notes };
}

async function readOnce(
  source: Source,
  config: Config,
  client: ReturnType<typeof createApiClient>,
  clock: Clock,
  secrets: readonly string[],
  peers: Peers,
  share: (value: unknown) => void,
): Promise<Omit<CheckResult, 'retries'>> {
  const { endpoint } = source;
  const { logger, notes } = noteTaker(secrets);
  // As a refresh: retries included, it gives up after its interval, never sooner than one request timeout.
  const deadlineMs = Math.max(config.refreshIntervalsMs[endpoint], config.requestTimeoutMs);
  const deadline = deadlineSignal(clock, deadlineMs, () => new Error(`no answer within ${formatDuration(deadlineMs)}`));
  const answers: RecordedAnswer[] = [];
  const result: Omit<CheckResult, 'retries' | 'path'> = {
    endpoint,
    answers,
    series: undefined,
    unreadable: undefined,
    error: undefined,
    notes,
  };
  try {
    const snapshot = await source.fetch({
      // The source only ever calls ctx.get: wrapping it records every answer without changing the source.
      get: async (query = {}) => {
        const response = await client.get(endpoint, { query, signal: deadline.signal });
        answers.push({ query, response });
        return response;
      },
      signal: deadline.signal,
      now: clock.now(),
      logger,
      peers,
    });
    share(source.share?.(snapshot));
    result.series = source.toFamilies(snapshot).reduce((n, f) => n + f.samples.length, 0);
    result.unreadable = source.unreadable?.(snapshot) ?? {};
  } catch (err) {
    result.error = err;
  } finally {
    deadline.dispose();
  }
  const failedAt = result.error instanceof AdminApiError ? result.error.details.path : undefined;
  return { ...result, path: client.pathInUse(endpoint) ?? failedAt };
}

// ---------------------------------------------------------------- the answers

/** Creates the directory for --save-answers before any call, so that a bad one stops check at once. */
export function prepareAnswersDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError(`--save-answers=${JSON.stringify(dir)}: cannot create the directory (${code})`);
  }
}

/**
 * The file of one answer: the endpoint, then what tells its requests apart
 * (a workspace's placeholder, a usage zone, a window's length, a page after
 * the first), e.g. `usage.json`, `usage-zone-eu.json`, `lechat_by_user-7d.json`, `workspaces-page2.json`.
 */
export function answerFileName(endpoint: string, query: Record<string, QueryValue>, anonymizer: Anonymizer, taken: Set<string>): string {
  const parts = [endpoint];
  if (query.workspace_id !== undefined) parts.push(`workspace-${anonymizer.id(String(query.workspace_id))}`);
  if (query.api_zone !== undefined) parts.push(`zone-${String(query.api_zone)}`);
  const start = Number(query.start_time);
  const end = Number(query.end_time);
  if (query.start_time !== undefined && query.end_time !== undefined && Number.isFinite(end - start)) {
    const span = end - start;
    parts.push(span % 86_400 === 0 ? `${span / 86_400}d` : `${span}s`);
  }
  if (query.page !== undefined && Number(query.page) !== 1) parts.push(`page${query.page}`);
  const base = parts.join('-');
  let name = `${base}.json`;
  for (let n = 2; taken.has(name); n++) name = `${base}-${n}.json`;
  taken.add(name);
  return name;
}

/**
 * Writes each recorded answer to `dir`, anonymized, one file per request,
 * and `requests.json` saying which request each file answers (and what
 * failed). The key is in none of them. Returns the files written.
 */
export function saveAnswers(dir: string, results: readonly CheckResult[], secrets: readonly string[], now: number): string[] {
  const anonymizer = new Anonymizer(secrets);
  const taken = new Set<string>();
  const requests: unknown[] = [];
  const failures: unknown[] = [];
  const written: string[] = [];
  const write = (name: string, value: unknown) => {
    writeFileSync(join(dir, name), `${scrub(JSON.stringify(value, null, 2), secrets)}\n`);
    written.push(name);
  };
  for (const r of results) {
    for (const { query, response } of r.answers) {
      const file = answerFileName(r.endpoint, query, anonymizer, taken);
      write(file, anonymizer.json(response.body));
      const shownQuery = Object.fromEntries(
        Object.entries(query)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => [k, k === 'workspace_id' ? anonymizer.id(String(v)) : v]),
      );
      requests.push({ file, endpoint: r.endpoint, path: response.path, query: shownQuery, status: response.status });
    }
    if (r.error !== undefined) {
      failures.push({ endpoint: r.endpoint, error: anonymizer.text(r.error instanceof Error ? r.error.message : String(r.error)) });
    }
  }
  write('requests.json', { exporter_version: VERSION, checked_at: new Date(now).toISOString(), requests, failures });
  return written;
}

// ---------------------------------------------------------------- the command

export interface CheckCommandOptions extends CheckDeps {
  saveAnswers: string | undefined;
  write: (text: string) => void;
}

/** Runs check and prints its table; resolves with the exit code (0: every endpoint read whole, 1: not). */
export async function checkCommand(config: Config, options: CheckCommandOptions): Promise<number> {
  const secrets = secretsOf(config);
  const results = await runCheck(config, options);
  let saved = '';
  if (options.saveAnswers !== undefined) {
    const files = saveAnswers(options.saveAnswers, results, secrets, (options.clock ?? systemClock).now());
    saved = `\nAnswers written to ${options.saveAnswers} (${files.length} files, requests.json says which request each one answers).\n`;
  }
  const report: CheckReport = {
    apiUrl: config.apiUrl,
    pathLayout: config.pathLayout,
    demo: config.demo,
    results,
    ...(options.saveAnswers === undefined ? {} : { saveAnswers: options.saveAnswers }),
  };
  options.write(scrub(formatCheck(report) + saved, secrets));
  return checkPassed(results) ? 0 : 1;
}
