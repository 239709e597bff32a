import { parseIsoTimestamp } from '../dates.js';
import { family, REFRESHED, type FamilyDef } from './families.js';
import { count, data } from './lechat-rows.js';
import { optionalTimestampSeconds } from './parse.js';
import { defineEndpoint, type Reader } from './types.js';
import { completeDaysRange, lastCompleteDay } from './windows.js';

/** le Chat (Vibe Work) by_time_stats: the daily active users of the last complete UTC day. */

/** `unique_users_count` of the bucket starting at `day` (YYYY-MM-DD); 0 when the API has no such bucket. */
export function parseDailyActiveUsers(body: unknown, day: string): number {
  const rows = data(body, 'lechat by_time_stats');
  const dayStart = (parseIsoTimestamp(day) as number) / 1000;
  let users = 0;
  rows.forEach((row, i) => {
    const where = `lechat by_time_stats.data[${i}]`;
    if (optionalTimestampSeconds(row.time_bucket) === dayStart) users = count(row, 'unique_users_count', where);
  });
  return users;
}

export const LECHAT_TIME_FAMILIES = {
  dailyActiveUsers: {
    name: 'mistral_lechat_daily_active_users',
    help: `le Chat users active on the last complete UTC day (unique_users_count of GET analytics by_time_stats, granularity day). ${REFRESHED}`,
    labelNames: [],
  },
} as const satisfies Record<string, FamilyDef>;

export interface TimeStatsSnapshot {
  day: string;
  dailyActiveUsers: number;
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
      const res = await ctx.get({ ...completeDaysRange(ctx.now, 1), granularity: 'day' });
      return { day, dailyActiveUsers: parseDailyActiveUsers(res.body, day) };
    },
    toFamilies: (s) => [family(LECHAT_TIME_FAMILIES.dailyActiveUsers, [{ labels: {}, value: s.dailyActiveUsers }])],
  }),
});
