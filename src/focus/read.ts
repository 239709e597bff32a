/**
 * Reads one billing month of `usage` (per workspace when
 * MISTRAL_WORKSPACE_IDS is set) with the exporter's client, reader and
 * pricing, and prices each UTC day's entries apart: the day's rows add up
 * to the month's, which is what the exporter serves as
 * `mistral_usage_cost` for the current month. GET only.
 */
import { Big } from 'big.js';
import type { ClientObserver, RetryPolicy } from '../admin-api/types.js';
import { deadlineSignal, systemClock, type Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import { formatDuration } from '../config/values.js';
import { createApiClient } from '../exporter.js';
import { warnOnce, type Logger } from '../logger.js';
import { listedTargets, perWorkspace } from '../sources/per-workspace.js';
import type { ReaderOptions, Unreadable } from '../sources/types.js';
import { UnreadableTally } from '../sources/unreadable.js';
import { priceUsage, readWorkspaceEntries, reportGaps, type UsageEntry, type UsageReaderContext } from '../sources/usage.js';
import { DAY_MS, utcMonthBounds } from '../sources/windows.js';
import { workspaces } from '../sources/workspaces.js';
import { readerOptionsOf } from '../sources/catalog.js';
import { NO_PEERS } from '../peers.js';
import type { AdminApiClient } from '../admin-api/client.js';
import type { FocusRow } from './columns.js';
import { focusRows, type BillingAccount, type PricedPeriod } from './rows.js';

/** A billing month, e.g. { year: 2026, month: 11 }. */
export interface BillingMonth {
  year: number;
  month: number;
}

export interface FocusExport {
  rows: FocusRow[];
  billing: { start: number; end: number };
  /** The currencies of the rows, with the sum of their BilledCost. */
  totals: Map<string, Big>;
  /** Usage entries whose cost is not known (no price, or no single price, matched): not in the file. */
  unpricedEntries: number;
  /** Entries of the answers that could not be read: not in the file. */
  unreadable: Unreadable;
  /** Entries with no readable day: their rows cover the whole month. */
  undatedEntries: number;
  /** The workspaces read (none: the organization's usage, read once). */
  workspaces: number;
  /** Requests sent (GET usage, once per workspace, and once per zone when the prices name several), and how many were retries. */
  calls: { requests: number; retries: number };
}

export interface FocusReadDeps {
  logger: Logger;
  clock?: Clock;
  retry?: RetryPolicy;
  /** Called as each workspace's usage has been read (done of total). */
  progress?: (done: number, total: number) => void;
}

/** `{ year, month }` as the `month` and `year` of `usage?month=&year=`. */
export function monthQuery(m: BillingMonth): { month: number; year: number } {
  return { month: m.month, year: m.year };
}

/** Groups entries by the day they are of; entries of no known day (or a day outside the month) under the month itself. */
function byChargePeriod(entries: readonly UsageEntry[], billing: { start: number; end: number }): Map<number, UsageEntry[]> {
  const out = new Map<number, UsageEntry[]>();
  for (const e of entries) {
    const start = e.day !== undefined && e.day >= billing.start && e.day < billing.end ? e.day : billing.start - 1;
    const list = out.get(start);
    if (list) list.push(e);
    else out.set(start, [e]);
  }
  return out;
}

/** Reads and prices a month's usage into FOCUS rows. Throws AdminApiError or ParseError when `usage` cannot be read. */
export async function readFocusExport(
  config: Config,
  month: BillingMonth,
  account: BillingAccount,
  deps: FocusReadDeps,
): Promise<FocusExport> {
  const clock = deps.clock ?? systemClock;
  const billing = utcMonthBounds(Date.UTC(month.year, month.month - 1, 1));
  const calls = { requests: 0, retries: 0 };
  const observer: ClientObserver = {
    request: () => {
      calls.requests += 1;
    },
    retry: () => {
      calls.retries += 1;
    },
    pathInUse: () => {},
  };
  const client = createApiClient(config, { logger: deps.logger, clock, retry: deps.retry, observer });
  // As a refresh of usage: retries included, each workspace's reading gives up after the interval, never sooner than one timeout.
  const deadlineMs = Math.max(config.refreshIntervalsMs.usage, config.requestTimeoutMs);
  const tally = new UnreadableTally();
  const reportOnce = warnOnce();
  const targets = listedTargets(config.workspaceIds, 'focus');
  const total = Math.max(1, targets.ids.length);
  let done = 0;
  try {
    const read = await perWorkspace(targets, async (workspaceId) => {
      const deadline = deadlineSignal(clock, deadlineMs, () => new Error(`no answer from usage within ${formatDuration(deadlineMs)}`));
      const ctx: UsageReaderContext = {
        get: (query = {}) => client.get('usage', { query, signal: deadline.signal }),
        logger: deps.logger,
        reportOnce,
      };
      try {
        const result = await readWorkspaceEntries(ctx, monthQuery(month), workspaceId, tally);
        done += 1;
        deps.progress?.(done, total);
        return result;
      } finally {
        deadline.dispose();
      }
    });

    const periods: PricedPeriod[] = [];
    let undatedEntries = 0;
    let unpricedEntries = 0;
    for (const { answer, entries } of read) {
      const options = { assumedServiceTier: config.usageAssumedServiceTier };
      // The whole month's, for the log: the gaps a start would log, once each.
      const month = priceUsage(answer, entries, options);
      reportGaps({ logger: deps.logger, reportOnce }, month);
      for (const n of month.unpricedEntries.values()) unpricedEntries += n;
      for (const fields of month.ambiguousEntries.values()) for (const { count } of fields.values()) unpricedEntries += count;
      for (const [start, dayEntries] of byChargePeriod(entries, billing)) {
        const wholeMonth = start < billing.start;
        if (wholeMonth) undatedEntries += dayEntries.length;
        periods.push({
          report: priceUsage(answer, dayEntries, options),
          start: wholeMonth ? billing.start : start,
          end: wholeMonth ? billing.end : start + DAY_MS,
        });
      }
    }
    const names = targets.byWorkspace
      ? await workspaceNames(client, readerOptionsOf(config), clock, deadlineMs, deps.logger)
      : new Map<string, string>();
    const rows = focusRows(periods, billing, account, names);
    const totals = new Map<string, Big>();
    for (const r of rows)
      totals.set(r.BillingCurrency as string, (totals.get(r.BillingCurrency as string) ?? new Big(0)).plus(r.BilledCost as string));
    return {
      rows,
      billing,
      totals,
      unpricedEntries,
      unreadable: tally.result(),
      undatedEntries,
      workspaces: targets.ids.length,
      calls,
    };
  } finally {
    await client.close();
  }
}

/**
 * Each workspace's name, for SubAccountName, as GET workspaces lists them
 * now (archived workspaces are not listed: theirs stay empty). The names
 * are optional in FOCUS, so a key without that scope, or an answer that
 * cannot be read, costs the names only: a warning, and the file is written.
 */
async function workspaceNames(
  client: AdminApiClient,
  options: ReaderOptions,
  clock: Clock,
  deadlineMs: number,
  logger: Logger,
): Promise<Map<string, string>> {
  const deadline = deadlineSignal(clock, deadlineMs, () => new Error(`no answer from workspaces within ${formatDuration(deadlineMs)}`));
  try {
    const snapshot = await workspaces.reader(options).fetch({
      get: (query = {}) => client.get('workspaces', { query, signal: deadline.signal }),
      signal: deadline.signal,
      now: clock.now(),
      logger,
      peers: NO_PEERS,
    });
    return new Map(snapshot.workspaces.map((w) => [w.id, w.name]));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    logger.warn({ api_endpoint: 'workspaces' }, `GET workspaces could not be read (${reason}): SubAccountName is left empty`);
    return new Map();
  } finally {
    deadline.dispose();
  }
}
