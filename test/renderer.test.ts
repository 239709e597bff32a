import fc from 'fast-check';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { type Format, joinFamilies, renderFamilies, renderFamily, type TypedFamily } from '../src/exposition.js';
import { renderGauges } from '../src/render/lines.js';
import { registryFamilies } from '../src/own-metrics.js';
import type { MetricFamily } from '../src/sources/types.js';

/**
 * The exporter renders the exposition itself (no registry per refresh or per
 * scrape); prom-client's registry is the reference it must match byte for
 * byte, in both formats.
 */
const FORMATS: readonly Format[] = ['text', 'openmetrics'];
const contentType = (format: Format) => (format === 'text' ? Registry.PROMETHEUS_CONTENT_TYPE : Registry.OPENMETRICS_CONTENT_TYPE);

const GAUGES: MetricFamily[] = [
  {
    name: 'mistral_awkward',
    help: 'Help with a "quote", a \\ backslash and a\nnewline.',
    labelNames: ['model', 'window'],
    samples: [
      { labels: { model: 'a"b', window: '1d' }, value: 1.5 },
      { labels: { window: '7d', model: 'c\nd\\e' }, value: 2e-7 },
      { labels: { model: 'a"b', window: '1d' }, value: 3 }, // the same series again: the last value wins, in first place
      { labels: { model: 'big', window: '1d' }, value: 1e21 },
      { labels: { model: 'tiny', window: '1d' }, value: -0.000001 },
      { labels: { model: 'inf', window: '1d' }, value: Number.POSITIVE_INFINITY },
      { labels: { model: 'nan', window: '1d' }, value: Number.NaN },
      { labels: { model: 'ünïcode ✓', window: '1d' }, value: 42 },
    ],
  },
  { name: 'mistral_single', help: 'No labels.', labelNames: [], samples: [{ labels: {}, value: 0 }] },
  { name: 'mistral_labelled_empty', help: 'No samples.', labelNames: ['model'], samples: [] },
];

async function promClient(format: Format, build: (registry: Registry) => void): Promise<string> {
  const registry = new Registry();
  registry.setContentType(contentType(format) as typeof Registry.PROMETHEUS_CONTENT_TYPE);
  build(registry);
  return registry.metrics();
}

describe('the exposition renderer, against prom-client', () => {
  it.each(FORMATS)('gauges, with escaping, odd numbers and a repeated series: byte-identical (%s)', async (format) => {
    const reference = await promClient(format, (registry) => {
      for (const f of GAUGES) {
        const g = new Gauge({ name: f.name, help: f.help, labelNames: [...f.labelNames], registers: [registry] });
        for (const s of f.samples) g.set(s.labels, s.value);
      }
    });
    expect(await renderFamilies(GAUGES, format)).toBe(reference);
  });

  it.each(FORMATS)('an unlabelled gauge with no value has no sample, where prom-client would invent a 0 (%s)', async (format) => {
    const empty: MetricFamily = {
      name: 'mistral_spend_limit_utilization_ratio',
      help: 'Absent without a limit.',
      labelNames: [],
      samples: [],
    };
    const reference = await promClient(format, (registry) => new Gauge({ name: empty.name, help: empty.help, registers: [registry] }));
    expect(reference).toContain('mistral_spend_limit_utilization_ratio 0');
    const ours = await renderFamilies([empty], format);
    expect(ours).not.toMatch(/^mistral_spend_limit_utilization_ratio /m);
    expect(ours).toContain('# TYPE mistral_spend_limit_utilization_ratio gauge');
  });

  it.each(FORMATS)('counters, named with _total, however often rendered (%s)', async (format) => {
    const counter: TypedFamily = {
      name: 'mistral_things_total',
      help: 'Things.',
      type: 'counter',
      samples: [
        { labels: { kind: 'a' }, value: 2 },
        { labels: { kind: 'b' }, value: 0 },
      ],
    };
    const reference = await promClient(format, (registry) => {
      const c = new Counter({ name: counter.name, help: counter.help, labelNames: ['kind'], registers: [registry] });
      c.inc({ kind: 'a' }, 2);
      c.inc({ kind: 'b' }, 0);
    });
    const ours = joinFamilies([renderFamily(counter, format)], format);
    expect(ours).toBe(reference);
    expect(joinFamilies([renderFamily(counter, format)], format)).toBe(ours);
  });

  it.each(FORMATS)(
    "prom-client's process and runtime metrics, read as data: the same lines but for values that moved (%s)",
    async (format) => {
      const registry = new Registry();
      collectDefaultMetrics({ register: registry });
      const families = await registryFamilies(registry);
      registry.setContentType(contentType(format) as typeof Registry.PROMETHEUS_CONTENT_TYPE);
      const reference = await registry.metrics();
      const ours = joinFamilies(
        families.map((f) => renderFamily(f, format)),
        format,
      );
      const shape = (text: string) => text.split('\n').map((l) => (l.startsWith('#') ? l : l.replace(/ [^ ]+$/, ' <value>')));
      expect(families.length).toBeGreaterThan(10);
      expect(families.some((f) => f.type === 'histogram') && families.some((f) => f.type === 'counter')).toBe(true);
      expect(shape(ours)).toEqual(shape(reference));
    },
  );

  /** Label values and HELP texts with everything that is escaped, and more. */
  const awkwardText = fc.string({
    unit: fc.oneof(
      fc.constantFrom('\\', '\n', '"', '\r', '\t', '{', '}', '=', ',', ' ', '#', 'é', '✓', '😀'),
      fc.string({ minLength: 1, maxLength: 1 }),
    ),
    maxLength: 12,
  });
  /** Integers, floats, exponents both ways, negative zero: the forms JavaScript writes numbers in. */
  const value = fc.oneof(
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(0, -0, 1e21, 1e-7, 123456789012345680000, 0.1 + 0.2, -1.5e-300, Number.MAX_VALUE, Number.MIN_VALUE),
    fc.integer({ min: -30, max: 30 }).map((e) => 1.234 * 10 ** e),
  );
  const labelName = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_]{0,6}$/);
  const family = (index: number) =>
    fc
      .record({
        help: awkwardText.map((h) => `Help ${h}`), // prom-client requires one
        labelNames: fc.uniqueArray(labelName, { maxLength: 3 }),
        // A small pool of values, so that the same series comes more than once.
        pool: fc.array(awkwardText, { minLength: 1, maxLength: 4 }),
        rows: fc.array(fc.record({ picks: fc.array(fc.nat(), { minLength: 3, maxLength: 3 }), value, shuffle: fc.nat() }), {
          maxLength: 12,
        }),
      })
      .map(({ help, labelNames, pool, rows }): MetricFamily => {
        const samples = rows.map(({ picks, value, shuffle }) => {
          const entries = labelNames.map((n, i) => [n, pool[(picks[i] as number) % pool.length] as string] as const);
          // Label keys in any order: prom-client writes them in the order given.
          const rotated = [...entries.slice(shuffle % (entries.length || 1)), ...entries.slice(0, shuffle % (entries.length || 1))];
          return { labels: Object.fromEntries(rotated), value };
        });
        // An unlabelled family with no sample: prom-client would invent a 0 (see above), so it always has one here.
        if (labelNames.length === 0 && samples.length === 0) samples.push({ labels: {}, value: 1 });
        return { name: `mistral_random_${index}`, help, labelNames, samples };
      });
  const families = fc.integer({ min: 1, max: 4 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => family(i))));

  it.each(FORMATS)('random gauge families: byte-identical to prom-client (%s)', async (format) => {
    await fc.assert(
      fc.asyncProperty(families, async (fams) => {
        const reference = await promClient(format, (registry) => {
          for (const f of fams) {
            const g = new Gauge({ name: f.name, help: f.help, labelNames: [...f.labelNames], registers: [registry] });
            for (const s of f.samples) {
              if (f.labelNames.length === 0) g.set(s.value);
              else g.set(s.labels, s.value);
            }
          }
        });
        expect(await renderFamilies(fams, format)).toBe(reference);
      }),
      { numRuns: 200 },
    );
  });

  it('tells apart and merges the series of a big family as prom-client does: each in its first place, with its last value', async () => {
    // 30 000 samples of 12 000 series: every series given 2 or 3 times, in scrambled order, some with a third label (empty or
    // not), and series whose values differ only by where one label ends and the next begins.
    const samples: MetricFamily['samples'] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 12_000; i++) {
        const k = (i * 7919) % 12_000;
        if (round === 2 && k % 2 === 0) continue;
        const labels: Record<string, string> = k % 3 === 0 ? { a: `x${k}`, b: `y${k % 5}` } : { a: `x${k}y`, b: `${k % 5}` };
        if (k % 11 === 0) labels.c = '';
        else if (k % 13 === 0) labels.c = `c${round === 0 ? '' : k}`;
        samples.push({ labels, value: round * 100_000 + k });
      }
    }
    const big: MetricFamily = { name: 'mistral_many', help: 'Series given again.', labelNames: ['a', 'b', 'c'], samples };
    const registry = new Registry();
    const gauge = new Gauge({ name: big.name, help: big.help, labelNames: [...big.labelNames], registers: [registry] });
    for (const sample of samples) gauge.set(sample.labels, sample.value);
    expect(await renderFamilies([big], 'text')).toBe(await registry.metrics());
  });

  it('renders a big family in slices, the event loop running between every few hundred series', async () => {
    const big: MetricFamily = {
      name: 'mistral_big',
      help: 'Many series.',
      labelNames: ['user_id', 'window'],
      samples: Array.from({ length: 20_000 }, (_, i) => ({ labels: { user_id: `u${i}`, window: '7d' }, value: i / 7 })),
    };
    let pauses = 0;
    const { body } = await renderGauges([big], async () => {
      pauses++;
    });
    // Dedupe and render together: at most 500 series rendered between two turns.
    expect(pauses).toBeGreaterThanOrEqual(20_000 / 500);
    expect(`${body.toString()}# EOF\n`).toBe(await renderFamilies([big], 'openmetrics'));
  });
});
