/**
 * Runs `fn` with the process's time zone set to `tz` (Node re-reads TZ when it
 * is assigned), then restores it: unset stays unset.
 */
export function inTimeZone<T>(tz: string, fn: () => T): T {
  const restore = setTimeZone(tz);
  try {
    return fn();
  } finally {
    restore();
  }
}

/** The same for async work: nothing else in the test file runs meanwhile (vitest runs its tests one by one). */
export async function inTimeZoneAsync<T>(tz: string, fn: () => Promise<T>): Promise<T> {
  const restore = setTimeZone(tz);
  try {
    return await fn();
  } finally {
    restore();
  }
}

function setTimeZone(tz: string): () => void {
  const saved = process.env.TZ;
  process.env.TZ = tz;
  return () => {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  };
}

/** Zones far from UTC on both sides, and one with a half-hour offset. */
export const TIME_ZONES = ['UTC', 'Pacific/Kiritimati', 'America/Los_Angeles', 'Asia/Kolkata'] as const;
