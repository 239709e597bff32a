/**
 * `mistral-admin-exporter backfill`: past months of the endpoints with a
 * daily history, written as OpenMetrics files with timestamps, one per month
 * (`YYYY-MM.om`, for promtool). Each endpoint's part of a month is kept in
 * `.parts/` until the month is whole; every file is written aside and then
 * renamed, so it is whole or absent, and a run after an interruption asks
 * only for the parts that are missing.
 */
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { setMaxListeners } from 'node:events';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { AdminApiError, type ClientObserver, type RetryPolicy } from '../admin-api/types.js';
import { systemClock, type Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import { createApiClient } from '../exporter.js';
import { warnOnce, type Logger } from '../logger.js';
import { readerOptionsOf } from '../sources/catalog.js';
import { BACKFILL_ENDPOINTS, READ_MONTH, type BackfillEndpoint } from './endpoints.js';
import { compareYearMonth, formatYearMonth, monthsBetween, type BackfillOptions, type YearMonth } from './options.js';
import { RequestPacer } from './pacer.js';

/** A mistake in what was asked (a month not over yet, no endpoint to read): exit code 2. */
export class BackfillRequestError extends Error {
  override readonly name = 'BackfillRequestError';
}

export interface BackfillDeps {
  logger: Logger;
  /** Where the progress bar and the summary go (stderr). */
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  clock?: Clock;
  retry?: RetryPolicy;
  /** Stops the run between requests (Ctrl-C): what is written stays written. */
  signal?: AbortSignal;
  /** Told of each month file once it is in place. */
  onWritten?: (file: string) => void;
}

export interface BackfillResult {
  /** Month files written by this run. */
  written: string[];
  /** Month files already there from an earlier run, not asked again. */
  skipped: string[];
  /** Parts (`YYYY-MM endpoint`) not read; their month is not written. */
  failed: Array<{ file: string; error: string }>;
  samples: number;
  bytes: number;
  requests: number;
  interrupted: boolean;
}

/** The file of one month: `2026-03.om`. */
export function monthFileName(month: YearMonth): string {
  return `${formatYearMonth(month)}.om`;
}

/** Where a month's endpoint parts wait, below the output directory. */
export const PARTS_DIR = '.parts';

/** The part of one month and endpoint: `.parts/2026-03.usage.om`. */
function partName(month: YearMonth, endpoint: BackfillEndpoint): string {
  return `${formatYearMonth(month)}.${endpoint}.om`;
}

const TMP = '.tmp-';

/** Writes `text` to `path` whole or not at all: aside, then renamed. */
async function writeWhole(path: string, text: string): Promise<void> {
  const tmp = `${path}${TMP}${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Files an interrupted run was writing: never renamed into place, removed. */
async function removeLeftovers(dir: string): Promise<void> {
  for (const name of await readdir(dir)) if (name.includes(`.om${TMP}`)) await rm(join(dir, name), { force: true });
}

/** The month's file: its parts' families one after the other (their names differ), one `# EOF`. */
function joinParts(parts: readonly string[]): string {
  const bodies = parts.map(stripEof).filter((p) => p.trim() !== '');
  return `${bodies.join('')}# EOF\n`;
}

/** Counts requests (retries included) for the summary. */
class Counter implements ClientObserver {
  requests = 0;
  request(): void {
    this.requests += 1;
  }
  retry(): void {}
  pathInUse(): void {}
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A part's failure, and what to do when it will not go away by itself. */
function failureText(endpoint: BackfillEndpoint, err: unknown): string {
  const text = errorText(err);
  if (err instanceof AdminApiError && (err.status === 403 || err.kind === 'not_found') && endpoint !== 'usage') {
    return `${text} (an organization without this product, or a key not allowed to read it: leave ${endpoint} out of MISTRAL_ENDPOINTS)`;
  }
  return text;
}

export async function runBackfill(config: Config, options: BackfillOptions, deps: BackfillDeps): Promise<BackfillResult> {
  const clock = deps.clock ?? systemClock;
  const nowDate = new Date(clock.now());
  const current = { year: nowDate.getUTCFullYear(), month: nowDate.getUTCMonth() + 1 };
  if (compareYearMonth(options.to, current) >= 0) {
    throw new BackfillRequestError(
      `--to=${formatYearMonth(options.to)}: that month is not over yet (it is ${formatYearMonth(current)} in UTC); ` +
        'backfill the months before it: the running exporter serves the current one',
    );
  }
  const endpoints = BACKFILL_ENDPOINTS.filter((e) => config.endpoints.includes(e));
  if (endpoints.length === 0) {
    throw new BackfillRequestError(`MISTRAL_ENDPOINTS names none of the endpoints with a daily history (${BACKFILL_ENDPOINTS.join(', ')})`);
  }

  const partsDir = join(options.output, PARTS_DIR);
  await mkdir(partsDir, { recursive: true });
  await removeLeftovers(options.output);
  await removeLeftovers(partsDir);
  const months = monthsBetween(options.from, options.to);

  // One signal for every request of the run (several at once per month, each listening): stopped with the caller's.
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  const stopNow = () => stop.abort(deps.signal?.reason);
  if (deps.signal?.aborted) stopNow();
  deps.signal?.addEventListener('abort', stopNow, { once: true });
  const signal = stop.signal;

  const counter = new Counter();
  const client = createApiClient(config, { logger: deps.logger, clock, retry: deps.retry, observer: counter });
  const pacer = new RequestPacer(clock, options.requestsPerSecond);
  const readerOptions = readerOptionsOf(config);
  const reportOnce = warnOnce();
  const result: BackfillResult = { written: [], skipped: [], failed: [], samples: 0, bytes: 0, requests: 0, interrupted: false };

  const bar = new cliProgress.SingleBar(
    {
      stream: deps.stderr,
      format: 'backfill [{bar}] {value}/{total} month parts | {job} | {requests} requests | {samples} samples | ETA {eta_formatted}',
      barsize: 24,
      hideCursor: deps.stderr.isTTY === true,
      // Piped or in CI: a plain line every few seconds rather than nothing.
      noTTYOutput: true,
      notTTYSchedule: 3000,
      etaBuffer: 20,
    },
    cliProgress.Presets.legacy,
  );
  const payload = (job: string) => ({ job, requests: counter.requests, samples: result.samples });
  bar.start(months.length * endpoints.length, 0, payload('starting'));

  const readPart = async (month: YearMonth, endpoint: BackfillEndpoint): Promise<string> => {
    const history = await READ_MONTH[endpoint](
      {
        get: async (query) => {
          await pacer.turn(signal);
          return client.get(endpoint, { query, signal });
        },
        logger: deps.logger,
        reportOnce,
        options: readerOptions,
        liveFrom: Date.UTC(current.year, current.month - 1, 1),
        org: options.org,
      },
      month,
    );
    const name = partName(month, endpoint);
    const skippedEntries = Object.values(history.unreadable).reduce((n, u) => n + u.count, 0);
    if (skippedEntries > 0)
      deps.logger.warn({ part: name, entries: skippedEntries }, 'entries of the answer could not be read and were left out');
    if (history.daysWithout.length > 0) {
      deps.logger.warn(
        { month: formatYearMonth(month), api_endpoint: endpoint, days: history.daysWithout },
        'days without figures (not loaded yet by the API, or nothing to count): to read them later, delete the month file and run backfill again',
      );
    }
    result.samples += history.families.samples;
    return history.families.render();
  };

  try {
    for (const month of months) {
      const monthFile = monthFileName(month);
      const monthPath = join(options.output, monthFile);
      if (await exists(monthPath)) {
        result.skipped.push(monthFile);
        bar.increment(endpoints.length, payload(`${formatYearMonth(month)} (already written)`));
        continue;
      }
      const parts: string[] = [];
      let whole = true;
      for (const endpoint of endpoints) {
        if (signal.aborted) break;
        const label = `${formatYearMonth(month)} ${endpoint}`;
        const partPath = join(partsDir, partName(month, endpoint));
        bar.update(payload(label));
        try {
          if (await exists(partPath)) parts.push(await readFile(partPath, 'utf8'));
          else {
            const text = await readPart(month, endpoint);
            await writeWhole(partPath, text);
            parts.push(text);
          }
        } catch (err) {
          if (signal.aborted) break;
          whole = false;
          result.failed.push({ file: label, error: failureText(endpoint, err) });
          deps.logger.error(
            { month: formatYearMonth(month), api_endpoint: endpoint, err: errorText(err) },
            `${label}: not read; run backfill again to retry it`,
          );
        }
        bar.increment(1, payload(label));
      }
      if (signal.aborted) {
        result.interrupted = true;
        break;
      }
      if (!whole) continue;
      const text = joinParts(parts);
      await writeWhole(monthPath, text);
      for (const endpoint of endpoints) await rm(join(partsDir, partName(month, endpoint)), { force: true });
      result.written.push(monthFile);
      result.bytes += Buffer.byteLength(text);
      deps.onWritten?.(monthFile);
    }
  } finally {
    bar.update(payload(result.interrupted ? 'interrupted' : 'done'));
    bar.stop();
    result.requests = counter.requests;
    deps.signal?.removeEventListener('abort', stopNow);
    await client.close();
    // Left only when a month is unfinished: its parts are read again by the next run.
    await rmdir(partsDir).catch(() => undefined);
  }
  return result;
}

/** The lines printed once the run ends: what was written, and what to do next. */
export function summary(options: BackfillOptions, r: BackfillResult, elapsedMs: number): string {
  const mib = (r.bytes / 2 ** 20).toFixed(1);
  const lines = [
    `backfill: ${r.written.length} files written (${r.samples} samples, ${mib} MiB), ${r.skipped.length} already there, ` +
      `${r.failed.length} parts failed; ${r.requests} requests in ${(elapsedMs / 1000).toFixed(1)}s`,
  ];
  for (const f of r.failed) lines.push(`  ${f.file}: ${f.error}`);
  if (r.interrupted) lines.push('Interrupted: run the same command again to go on where it stopped.');
  else if (r.failed.length > 0) lines.push('Run the same command again to retry the files that failed (the others are kept).');
  if (r.written.length + r.skipped.length > 0) {
    lines.push(
      'Next: build blocks from each file, then move them into Prometheus (see README, "Backfilling history"):',
      `  for f in ${options.output}/*.om; do promtool tsdb create-blocks-from openmetrics "$f" ./blocks; done`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Removes the trailing `# EOF` of an OpenMetrics part; the month's file gets one at its very end. */
function stripEof(openmetrics: string): string {
  return openmetrics.replace(/\n?# EOF\n$/, '\n');
}
