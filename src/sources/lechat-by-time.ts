import { checkEchoedWindow } from './echo.js';
import { family, REFRESHED, single, type FamilyDef } from './families.js';
import { count, readData } from './lechat-rows.js';
import { optionalTimestampSeconds } from './parse.js';
import { defineEndpoint, ParseError, type Reader, type Unreadable } from './types.js';
import { UnreadableTally } from './unreadable.js';
import { completeDays, completeDaysRange, completeUntil, dayStart, isoDay, lastCompleteDay, longest } from './windows.js';

/**
 * le Chat (Vibe Work) by_time_stats: the daily active users of the last
 * complete UTC day, and which of the longest window's days the API has loaded.
 */

/**
 * `unique_users_count` per readable day bucket, keyed by its `YYYY-MM-DD`
 * day (a bucket that does not start at a UTC midnight names no day). A day
 * without a bucket is not loaded yet (or unreadable): unknown, never 0.
 */
export function parseDayBuckets(body: unknown, tally = new UnreadableTally()): Map<string, number> {
  const buckets = readData(body, 'lechat by_time_stats', tally, (row, where) => {
    const start = optionalTimestampSeconds(row.time_bucket);
    if (start === undefined)
      throw new ParseError(`${where}.time_bucket: missing or not a date-time`, row.time_bucket == null ? 'missing' : 'wrong_type');
    return { start, users: count(row, 'unique_users_count', where) };
  });
  return new Map(buckets.filter((b) => b.start === dayStart(isoDay(b.start))).map((b) => [isoDay(b.start), b.users]));
}

/** `unique_users_count` of the bucket of `day` (YYYY-MM-DD), or undefined when the API has no readable bucket for it. */
export function parseDailyActiveUsers(body: unknown, day: string, tally = new UnreadableTally()): number | undefined {
  return parseDayBuckets(body, tally).get(day);
}

export const LECHAT_TIME_FAMILIES = {
  dailyActiveUsers: {
    name: 'mistral_lechat_daily_active_users',
    help: `le Chat (Vibe Work) users active on the last complete UTC day (unique_users_count of GET analytics by_time_stats, granularity day). ${REFRESHED}`,
    labelNames: [],
  },
} as const satisfies Record<string, FamilyDef>;

export interface TimeStatsSnapshot {
  day: string;
  /** Undefined when the API has no readable row for the day. */
  dailyActiveUsers: number | undefined;
  /** Up to when the data is complete (see `completeUntil` in windows.ts); undefined when no day was asked. */
  completeUntil: number | undefined;
  unreadable?: Unreadable;
}

export const lechatByTime = defineEndpoint({
  id: 'lechat_by_time',
  describe: 'GET analytics le Chat by_time_stats',
  title: 'le Chat by_time_stats',
  paths: {
    brief: 'analytics/lechat/usage/by_time_stats',
    legacy: 'analytics/vibe/usage/by_time_stats',
    current: 'analytics/vibe/work/usage/by_time_stats',
  },
  intervalGroup: 'analytics',
  query: "`start_time`, `end_time`: the longest window's complete UTC days; `granularity=day`",
  perWorkspace: false,
  families: Object.values(LECHAT_TIME_FAMILIES),
  reader: ({ analytics }): Reader<TimeStatsSnapshot> => ({
    async fetch(ctx) {
      const day = lastCompleteDay(ctx.now);
      const days = longest(analytics.windows).days;
      const query = { ...completeDaysRange(ctx.now, days), granularity: 'day' };
      const res = await ctx.get(query);
      checkEchoedWindow(res.body, query, 'lechat by_time_stats');
      const tally = new UnreadableTally();
      const buckets = parseDayBuckets(res.body, tally);
      return {
        day,
        dailyActiveUsers: buckets.get(day),
        completeUntil: completeUntil(completeDays(ctx.now, days), new Set(buckets.keys())),
        unreadable: tally.result(),
      };
    },
    toFamilies: (s) => [family(LECHAT_TIME_FAMILIES.dailyActiveUsers, single(s.dailyActiveUsers))],
    unreadable: (s) => s.unreadable ?? {},
    completeUntil: (s) => s.completeUntil,
  }),
});
