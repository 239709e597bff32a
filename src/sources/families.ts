import type { Big } from 'big.js';
import type { MetricFamily, Sample } from './types.js';

/** Said in every HELP text: the figures are not read at scrape time. */
export const REFRESHED = 'Refreshed in the background on an interval, not at scrape time.';

export interface FamilyDef {
  name: string;
  help: string;
  labelNames: readonly string[];
  /** Labels a sample may leave out where they say nothing (Prometheus reads an absent label as an empty one). */
  optionalLabels?: readonly string[];
}

export function family(def: FamilyDef, samples: Sample[]): MetricFamily {
  return { ...def, samples };
}

/** A sample with no labels, or nothing when the value is unknown. */
export function single(value: number | undefined): Sample[] {
  return value === undefined ? [] : [{ labels: {}, value }];
}

/** An exact decimal as the nearest float, for a sample. */
export function decimalToNumber(value: Big): number {
  return Number(value.toString());
}

export function bool(value: boolean | undefined): number | undefined {
  return value === undefined ? undefined : value ? 1 : 0;
}

/**
 * Sums exact decimals per label set, so that many API rows that share the
 * labels of one series add up to one sample without float drift.
 */
export class DecimalSums {
  private readonly sums = new Map<string, { labels: Record<string, string>; total: Big }>();

  add(labels: Record<string, string>, value: Big): void {
    const key = Object.entries(labels).flat().join('\u0000');
    const entry = this.sums.get(key);
    if (entry) entry.total = entry.total.plus(value);
    else this.sums.set(key, { labels, total: value });
  }

  samples(): Sample[] {
    return [...this.sums.values()].map(({ labels, total }) => ({ labels, value: decimalToNumber(total) }));
  }
}
