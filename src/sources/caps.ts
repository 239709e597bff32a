/**
 * The `limit` ids with the highest score, the same ids for every window:
 * ranked once (on the longest window), ties broken by id so that the choice
 * is stable from one refresh to the next. Returns the kept ids and how many
 * were left out.
 */
export function topIds(scores: ReadonlyMap<string, number>, limit: number): { kept: Set<string>; dropped: number } {
  const ranked = [...scores.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const kept = new Set(ranked.slice(0, limit).map(([id]) => id));
  return { kept, dropped: Math.max(0, ranked.length - limit) };
}
