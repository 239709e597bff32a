/**
 * What the backfill reads of each endpoint for one past month, and how its
 * days become timestamped samples. Every answer is read by the source's own
 * parser and turned into families by the source's own functions, on a
 * snapshot "as at" an instant: what the live exporter would have served then,
 * so the names, labels and values are the live ones.
 *
 * Every sample is stamped at 23:59:59 UTC of a day D (one instant a day, so
 * that a day's samples fall in one two-hour block):
 * - usage: month-to-date through D (the entries up to D, priced by the
 *   month's price list);
 * - le Chat by_time, Vibe Code by_workspace / by_organization: the figures of
 *   D-1, the last complete day at that instant (`window="1d"` sums, daily
 *   active users). A month's last day is thus stamped on the next month's 1st.
 */
import type { QueryValue } from '../admin-api/types.js';
import type { AnalyticsWindow } from '../config/settings.js';
import type { Logger, warnOnce } from '../logger.js';
import { checkEchoedWindow } from '../sources/echo.js';
import { lechatByTime, parseDayBuckets } from '../sources/lechat-by-time.js';
import { listedTargets, perWorkspace } from '../sources/per-workspace.js';
import type { ApiEndpoint } from '../sources/catalog.js';
import type { ApiResponse } from '../admin-api/types.js';
import type { MetricFamily, ReaderOptions, Unreadable } from '../sources/types.js';
import { UnreadableTally } from '../sources/unreadable.js';
import { priceUsage, readWorkspaceEntries, reportGaps, USAGE_FAMILIES, usageFamilies, type UsageSnapshot } from '../sources/usage.js';
import { parseVibeOrganization, vibeOrganizationFamilies } from '../sources/vibe-by-organization.js';
import { parseVibeWorkspace, vibeWorkspaceFamilies } from '../sources/vibe-by-workspace.js';
import { DAY_MS, DAY_S, dayStart, isoDay } from '../sources/windows.js';
import { withOrgLabel } from '../organizations.js';
import { TimedFamilies } from './openmetrics.js';
import type { YearMonth } from './options.js';

/** The endpoints with a daily history, in the order they are read. */
export const BACKFILL_ENDPOINTS = [
  'usage',
  'lechat_by_time',
  'vibe_by_workspace',
  'vibe_by_organization',
] as const satisfies readonly ApiEndpoint[];
export type BackfillEndpoint = (typeof BACKFILL_ENDPOINTS)[number];

/** The usage families with a daily history: cost and quantities (not the diagnostics, nor storage, which has no day). */
export const USAGE_BACKFILLED = new Set<string>(
  [
    USAGE_FAMILIES.cost,
    USAGE_FAMILIES.tokens,
    USAGE_FAMILIES.pages,
    USAGE_FAMILIES.audio_seconds,
    USAGE_FAMILIES.audio_characters,
    USAGE_FAMILIES.gpu_seconds,
    USAGE_FAMILIES.reserved_instances,
  ].map((f) => f.name),
);

/** The one window of the analytics samples: the day itself. */
const ONE_DAY: AnalyticsWindow = { label: '1d', ms: DAY_MS, days: 1 };

export interface MonthContext {
  /** GET of this endpoint (paced, retried, aborted on interruption). */
  get(query: Record<string, QueryValue>): Promise<ApiResponse>;
  logger: Logger;
  /** Logs each problem once in the whole run, not once a month. */
  reportOnce: ReturnType<typeof warnOnce>;
  options: ReaderOptions;
  /**
   * The start of the current UTC month, in ms: a sample stamped there or later
   * (the last day's analytics of the month before) is the live exporter's.
   */
  liveFrom: number;
  /** The organization of a config file read: its `org` label on every sample. */
  org?: string | undefined;
}

export interface MonthHistory {
  families: TimedFamilies;
  /** Days of the month with no figure (analytics not loaded yet, or no answer row). */
  daysWithout: string[];
  unreadable: Unreadable;
}

/** The `YYYY-MM-DD` days of a month, oldest first. */
export function daysOf(m: YearMonth): string[] {
  const first = Date.UTC(m.year, m.month - 1, 1) / 1000;
  const next = Date.UTC(m.year, m.month, 1) / 1000;
  const days: string[] = [];
  for (let t = first; t < next; t += DAY_S) days.push(isoDay(t));
  return days;
}

/** The month's bounds as the analytics endpoints take them (Unix seconds, end exclusive). */
function monthRange(m: YearMonth): { start_time: number; end_time: number } {
  return { start_time: Date.UTC(m.year, m.month - 1, 1) / 1000, end_time: Date.UTC(m.year, m.month, 1) / 1000 };
}

/** D 23:59:59 UTC, in ms: when usage's month-to-date covers D. */
const lastSecondOf = (day: string) => (dayStart(day) + DAY_S - 1) * 1000;
/** D+1 23:59:59 UTC, in ms: an instant D is the last complete day. */
const dayAfterEnd = (day: string) => (dayStart(day) + 2 * DAY_S - 1) * 1000;

/**
 * Each day's families, stamped by `perDay`, into one history; names the days
 * that gave no sample. `perDay` gives the instant and the families of a day.
 */
function history(
  ctx: MonthContext,
  days: readonly string[],
  perDay: (day: string) => { at: number; families: () => MetricFamily[] },
  unreadable: Unreadable,
): MonthHistory {
  const out = new TimedFamilies();
  const daysWithout: string[] = [];
  for (const day of days) {
    const { at, families } = perDay(day);
    if (at >= ctx.liveFrom) continue;
    const made = families();
    if (made.every((f) => f.samples.length === 0)) daysWithout.push(day);
    out.add(ctx.org === undefined ? made : withOrgLabel(made, ctx.org), at);
  }
  return { families: out, daysWithout, unreadable };
}

async function usageMonth(ctx: MonthContext, m: YearMonth): Promise<MonthHistory> {
  const { workspaceIds, assumedServiceTier, maxModels } = ctx.options;
  const tally = new UnreadableTally();
  const own = { get: ctx.get, logger: ctx.logger, reportOnce: ctx.reportOnce };
  const read = await perWorkspace(listedTargets(workspaceIds, 'backfill'), (ws) => readWorkspaceEntries(own, m, ws, tally));
  const days = daysOf(m);
  const lastDay = days[days.length - 1] as string;
  // An entry without a readable day counts from the month's last day: the month's total stays whole.
  const dayOfEntry = (e: { day?: number | undefined }) => {
    const day = e.day === undefined ? undefined : isoDay(e.day / 1000);
    return day?.startsWith(lastDay.slice(0, 7)) ? day : lastDay;
  };
  const snapshotUntil = (day: string): UsageSnapshot => ({
    byWorkspace: workspaceIds !== 'all' && workspaceIds.length > 0,
    reports: read.map(({ answer, entries }) =>
      priceUsage(
        answer,
        entries.filter((e) => dayOfEntry(e) <= day),
        { assumedServiceTier },
      ),
    ),
  });
  for (const report of snapshotUntil(lastDay).reports) reportGaps(own, report);
  return history(
    ctx,
    days,
    (day) => ({
      at: lastSecondOf(day),
      families: () => usageFamilies(snapshotUntil(day), maxModels).filter((f) => USAGE_BACKFILLED.has(f.name)),
    }),
    tally.result(),
  );
}

async function lechatByTimeMonth(ctx: MonthContext, m: YearMonth): Promise<MonthHistory> {
  const query = { ...monthRange(m), granularity: 'day' };
  const { body } = await ctx.get(query);
  checkEchoedWindow(body, query, 'lechat by_time_stats');
  const tally = new UnreadableTally();
  const buckets = parseDayBuckets(body, tally);
  const { toFamilies } = lechatByTime.reader(ctx.options);
  return history(
    ctx,
    daysOf(m),
    (day) => ({ at: dayAfterEnd(day), families: () => toFamilies({ day, dailyActiveUsers: buckets.get(day), completeUntil: undefined }) }),
    tally.result(),
  );
}

async function vibeByWorkspaceMonth(ctx: MonthContext, m: YearMonth): Promise<MonthHistory> {
  const { workspaceIds, analytics } = ctx.options;
  const range = monthRange(m);
  const tally = new UnreadableTally();
  const reports = await perWorkspace(listedTargets(workspaceIds, 'backfill'), async (workspaceId) => {
    const query = workspaceId === undefined ? { ...range } : { ...range, workspace_id: workspaceId };
    const { body } = await ctx.get(query);
    checkEchoedWindow(body, query, 'vibe by_workspace');
    return parseVibeWorkspace(body, workspaceId, tally);
  });
  const byWorkspace = workspaceIds !== 'all' && workspaceIds.length > 0;
  return history(
    ctx,
    daysOf(m),
    (day) => ({
      at: dayAfterEnd(day),
      families: () =>
        vibeWorkspaceFamilies({ fetchedAt: dayAfterEnd(day), windows: [ONE_DAY], toolLimit: analytics.toolLimit, byWorkspace, reports }),
    }),
    tally.result(),
  );
}

async function vibeByOrganizationMonth(ctx: MonthContext, m: YearMonth): Promise<MonthHistory> {
  const query = monthRange(m);
  const { body } = await ctx.get({ ...query });
  checkEchoedWindow(body, { ...query }, 'vibe by_organization');
  const tally = new UnreadableTally();
  const report = parseVibeOrganization(body, tally);
  return history(
    ctx,
    daysOf(m),
    (day) => ({
      at: dayAfterEnd(day),
      families: () => vibeOrganizationFamilies({ fetchedAt: dayAfterEnd(day), windows: [ONE_DAY], report }),
    }),
    tally.result(),
  );
}

/** Reads one endpoint's history of one month. */
export const READ_MONTH: Record<BackfillEndpoint, (ctx: MonthContext, m: YearMonth) => Promise<MonthHistory>> = {
  usage: usageMonth,
  lechat_by_time: lechatByTimeMonth,
  vibe_by_workspace: vibeByWorkspaceMonth,
  vibe_by_organization: vibeByOrganizationMonth,
};
