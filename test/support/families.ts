import type { MetricFamily } from '../../src/sources/types.js';

/** Families as `name{a="x",b="y"}` → value, in label order, for compact assertions. */
export function flat(families: MetricFamily[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of families) {
    for (const s of f.samples) {
      const labels = Object.entries(s.labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(',');
      out[labels ? `${f.name}{${labels}}` : f.name] = s.value;
    }
  }
  return out;
}
