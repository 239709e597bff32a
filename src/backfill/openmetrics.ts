import { renderFamily } from '../exposition.js';
import type { MetricFamily } from '../sources/types.js';

/** A gauge family with a timestamp on each sample: one series may have many samples, oldest first. */
export interface TimedFamily {
  name: string;
  help: string;
  samples: Array<{ labels: Readonly<Record<string, string>>; value: number; timestampMs: number }>;
}

/**
 * Collects the families of successive instants into one timed family per
 * name, in the order first seen. Called with instants in increasing order,
 * each series' samples are in time order, as promtool requires.
 */
export class TimedFamilies {
  private readonly byName = new Map<string, TimedFamily>();

  add(families: readonly MetricFamily[], timestampMs: number): void {
    for (const f of families) {
      if (f.samples.length === 0) continue;
      let timed = this.byName.get(f.name);
      if (!timed) {
        timed = { name: f.name, help: f.help, samples: [] };
        this.byName.set(f.name, timed);
      }
      for (const s of f.samples) timed.samples.push({ labels: s.labels, value: s.value, timestampMs });
    }
  }

  get samples(): number {
    let n = 0;
    for (const f of this.byName.values()) n += f.samples.length;
    return n;
  }

  /** One OpenMetrics exposition ending in `# EOF`: what `promtool tsdb create-blocks-from openmetrics` reads. */
  render(): string {
    const parts = [...this.byName.values()].map((f) => renderFamily({ ...f, type: 'gauge' }, 'openmetrics'));
    return parts.length === 0 ? '# EOF\n' : `${parts.join('\n')}\n# EOF\n`;
  }
}
