/** UTC calendar helpers. All simulator times are Unix seconds unless named `Ms`. */

export const HOUR_SECONDS = 3600;
export const DAY_SECONDS = 86_400;

export type Granularity = 'hour' | 'day' | 'week' | 'month';

/** Days since 1970-01-01 (UTC) of the instant. */
export function dayIndexOf(seconds: number): number {
  return Math.floor(seconds / DAY_SECONDS);
}

/** 0 = Sunday … 6 = Saturday, for a day index. */
export function weekdayOf(dayIndex: number): number {
  return (((dayIndex + 4) % 7) + 7) % 7;
}

export function isWeekend(dayIndex: number): boolean {
  const weekday = weekdayOf(dayIndex);
  return weekday === 0 || weekday === 6;
}

/** Index of the Monday-based week containing the day. */
export function weekIndexOf(dayIndex: number): number {
  return Math.floor((dayIndex + 3) / 7);
}

/** "2025-12-17T10:25:07Z": second precision, no milliseconds. */
export function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** "2025-12-17" for a day index. */
export function isoDay(dayIndex: number): string {
  return new Date(dayIndex * DAY_SECONDS * 1000).toISOString().slice(0, 10);
}

export interface YearMonth {
  readonly year: number;
  /** 1–12 */
  readonly month: number;
}

export function yearMonthOf(seconds: number): YearMonth {
  const date = new Date(seconds * 1000);
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1 };
}

export function monthStartSeconds({ year, month }: YearMonth): number {
  return Date.UTC(year, month - 1, 1) / 1000;
}

export function addMonths({ year, month }: YearMonth, delta: number): YearMonth {
  const zeroBased = year * 12 + (month - 1) + delta;
  return { year: Math.floor(zeroBased / 12), month: (zeroBased % 12) + 1 };
}

export function compareYearMonth(a: YearMonth, b: YearMonth): number {
  return a.year * 12 + a.month - (b.year * 12 + b.month);
}

/** "2025-05" */
export function formatYearMonth({ year, month }: YearMonth): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
}

/** Start (Unix seconds) of the bucket of `granularity` that contains `seconds`. */
export function bucketStart(seconds: number, granularity: Granularity): number {
  switch (granularity) {
    case 'hour':
      return Math.floor(seconds / HOUR_SECONDS) * HOUR_SECONDS;
    case 'day':
      return dayIndexOf(seconds) * DAY_SECONDS;
    case 'week': {
      const day = dayIndexOf(seconds);
      return (weekIndexOf(day) * 7 - 3) * DAY_SECONDS;
    }
    case 'month':
      return monthStartSeconds(yearMonthOf(seconds));
  }
}

/** Start of the bucket following the one that starts at `start`. */
export function nextBucketStart(start: number, granularity: Granularity): number {
  switch (granularity) {
    case 'hour':
      return start + HOUR_SECONDS;
    case 'day':
      return start + DAY_SECONDS;
    case 'week':
      return start + 7 * DAY_SECONDS;
    case 'month':
      return monthStartSeconds(addMonths(yearMonthOf(start), 1));
  }
}

/**
 * The instant (Unix seconds, exclusive) up to which the analytics data lake
 * has loaded activity. Normally now (activity is served as it happens). With
 * `unloadedDays` K > 0, the last K complete UTC days, and today, are not
 * loaded yet: the lake ends at today's midnight minus K days.
 */
export function analyticsLoadedUntil(nowSeconds: number, unloadedDays: number): number {
  return unloadedDays > 0 ? (dayIndexOf(nowSeconds) - unloadedDays) * DAY_SECONDS : nowSeconds + 1;
}
