import type { AnalyticsWindow } from '../config/settings.js';

export const DAY_MS = 86_400_000;
export const DAY_S = 86_400;

/** Query bounds in Unix seconds, as the analytics endpoints take them. */
export interface TimeRange {
  start_time: number;
  end_time: number;
}

/** UTC midnight at the start of the day holding `now`, in Unix seconds. */
export function todayMidnight(now: number): number {
  return Math.floor(now / DAY_MS) * DAY_S;
}

/**
 * The last `days` complete UTC days: [midnight `days` days ago, today's
 * midnight]. `1d` is yesterday; today, being partial, is never included.
 */
export function completeDaysRange(now: number, days: number): TimeRange {
  const end = todayMidnight(now);
  return { start_time: end - days * DAY_S, end_time: end };
}

/** The `YYYY-MM-DD` days of the last `days` complete UTC days, oldest first. */
export function completeDays(now: number, days: number): string[] {
  const end = todayMidnight(now);
  return Array.from({ length: days }, (_, i) => isoDay(end - (days - i) * DAY_S));
}

/** Yesterday (UTC), the last complete day, as `YYYY-MM-DD`. */
export function lastCompleteDay(now: number): string {
  return isoDay(todayMidnight(now) - DAY_S);
}

/**
 * Rule 5 (time): up to when the data of `days` (consecutive UTC days, oldest
 * first) is complete, given the days the API has loaded. The start, in Unix
 * seconds, of the first day not loaded; the end of the last day when all
 * are. The data is complete over [start of `days`, this instant).
 */
export function completeUntil(days: readonly string[], loaded: ReadonlySet<string>): number | undefined {
  if (days.length === 0) return undefined;
  const missing = days.find((d) => !loaded.has(d));
  return missing === undefined ? dayStart(days[days.length - 1] as string) + DAY_S : dayStart(missing);
}

/** Unix seconds of the UTC midnight starting `day` (`YYYY-MM-DD`). */
export function dayStart(day: string): number {
  return Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10))) / 1000;
}

export function isoDay(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 10);
}

/** The longest window (the windows are sorted shortest first, and never empty). */
export function longest(windows: readonly AnalyticsWindow[]): AnalyticsWindow {
  return windows[windows.length - 1] as AnalyticsWindow;
}

/** Start and end (exclusive) of the UTC calendar month holding `t`, in ms since the epoch. */
export function utcMonthBounds(t: number): { start: number; end: number } {
  const d = new Date(t);
  return {
    start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1),
    end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1),
  };
}
