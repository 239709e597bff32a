import { parseIsoTimestamp } from '../dates.js';
import { checkEchoedWindow } from './echo.js';
import { family, REFRESHED, single, type FamilyDef } from './families.js';
import { count, readData } from './lechat-rows.js';
import { optionalTimestampSeconds } from './parse.js';
import { defineEndpoint, ParseError, type Reader, type Unreadable } from './types.js';
import { UnreadableTally } from './unreadable.js';
import { completeDaysRange, lastCompleteDay } from './windows.js';

/** le Chat (Vibe Work) by_time_stats: the daily active users of the last complete UTC day. */

/**
 * `unique_users_count` of the bucket starting at `day` (YYYY-MM-DD), or
 * undefined when the API has no readable bucket for that day (not loaded
 * yet, or unreadable): an unknown day is absent, never 0.
 */
export function parseDailyActiveUsers(body: unknown, day: string, tally = new UnreadableTally()): number | undefined {
  const dayStart = (parseIsoTimestamp(day) as number) / 1000;
  const buckets = readData(body, 'lechat by_time_stats', tally, (row, where) => {
    const start = optionalTimestampSeconds(row.time_bucket);
    if (start === undefined)
      throw new ParseError(`${where}.time_bucket: missing or not a date-time`, row.time_bucket == null ? 'missing' : 'wrong_type');
    return { start, users: count(row, 'unique_users_count', where) };
  });
  return buckets.find((b) => b.start === dayStart)?.users;
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
  query: '`start_time`, `end_time`: the last complete UTC day; `granularity=day`',
  perWorkspace: false,
  families: Object.values(LECHAT_TIME_FAMILIES),
  reader: (): Reader<TimeStatsSnapshot> => ({
    async fetch(ctx) {
      const day = lastCompleteDay(ctx.now);
      const query = { ...completeDaysRange(ctx.now, 1), granularity: 'day' };
      const res = await ctx.get(query);
      checkEchoedWindow(res.body, query, 'lechat by_time_stats');
      const tally = new UnreadableTally();
      return { day, dailyActiveUsers: parseDailyActiveUsers(res.body, day, tally), unreadable: tally.result() };
    },
    toFamilies: (s) => [family(LECHAT_TIME_FAMILIES.dailyActiveUsers, single(s.dailyActiveUsers))],
    unreadable: (s) => s.unreadable ?? {},
  }),
});
