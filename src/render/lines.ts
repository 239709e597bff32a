import { nextTurn } from '../slices.js';
import type { MetricFamily, Sample } from '../sources/types.js';

export type Format = 'text' | 'openmetrics';

/** A family of any type, as prom-client's registries hold them (the process metrics) or as our own counters are kept. */
export interface TypedFamily {
  name: string;
  help: string;
  type: 'gauge' | 'counter' | 'histogram' | 'summary';
  /**
   * `name` overrides the family's name for that sample (a histogram's `_bucket`, `_sum`, `_count`);
   * `timestampMs`, when set, is written after the value (seconds in OpenMetrics, ms in the text format): the backfill's samples.
   */
  samples: ReadonlyArray<{ name?: string; labels: Readonly<Record<string, string | number>>; value: number; timestampMs?: number }>;
}

/**
 * The lines of the exposition, written directly: the same bytes prom-client's
 * registry gives (its escaping, its number formatting, its `_total` handling
 * of counters in OpenMetrics), with no registry to build. test/renderer.test.ts
 * holds it to prom-client on random families, and the golden files to what
 * was served before.
 */

/** Characters a label value escapes (prom-client: backslash, newline, double quote). */
const LABEL_SPECIAL = /[\\\n"]/;
/** Characters HELP escapes (backslash, newline). */
const HELP_SPECIAL = /[\\\n]/;

export function escapeHelp(text: string): string {
  return HELP_SPECIAL.test(text) ? text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n') : text;
}

export function escapeLabelValue(value: string): string {
  return LABEL_SPECIAL.test(value) ? value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : value;
}

/** A sample's value as prom-client writes it: JavaScript's shortest round-trip form, `Nan`, `+Inf`, `-Inf`. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

/** `{a="x",b="y"}` in the labels' own key order (prom-client's), or nothing for no labels. */
export function labelSet(labels: Readonly<Record<string, string | number>>): string {
  let out = '';
  let separator = '{';
  for (const key in labels) {
    const v = labels[key] as string | number;
    out += `${separator}${key}="${typeof v === 'string' ? escapeLabelValue(v) : v}"`;
    separator = ',';
  }
  return separator === '{' ? out : `${out}}`;
}

/** The `# HELP` and `# TYPE` lines of a family, each ending in a newline. */
export function familyHeader(name: string, help: string, type: TypedFamily['type']): string {
  const escapedName = escapeHelp(name);
  return `# HELP ${escapedName} ${escapeHelp(help)}\n# TYPE ${escapedName} ${type}\n`;
}

/** Renders one family of any type, without its trailing newline (small families: the exporter's own metrics). */
export function renderFamily(family: TypedFamily, format: Format): string {
  const counterInOpenMetrics = format === 'openmetrics' && family.type === 'counter';
  const name = counterInOpenMetrics ? family.name.replace(/_total$/, '') : family.name;
  let out = familyHeader(name, family.help, family.type);
  for (const sample of family.samples) {
    const sampleName = counterInOpenMetrics ? `${sample.name ?? name}_total` : (sample.name ?? name);
    const timestamp =
      sample.timestampMs === undefined ? '' : ` ${format === 'openmetrics' ? sample.timestampMs / 1000 : sample.timestampMs}`;
    out += `${sampleName}${labelSet(sample.labels)} ${formatValue(sample.value)}${timestamp}\n`;
  }
  return out.slice(0, -1);
}

/** A body of families: blank lines between text-format families, none in OpenMetrics, which ends with `# EOF`. */
export function joinFamilies(rendered: readonly string[], format: Format): string {
  if (format === 'openmetrics') return `${rendered.join('\n')}\n# EOF\n`;
  return `${rendered.join('\n\n')}\n`;
}

/** Samples rendered between two turns of the event loop: well under a millisecond on an idle core. */
const SLICE_SAMPLES = 500;
/** Bytes copied between two turns of the event loop. */
const COPY_SLICE = 1 << 20;
/** Characters gathered before they are turned into bytes (kept small, so no conversion blocks long). */
const SEGMENT_CHARS = 1 << 18;

/**
 * Gauge families in their OpenMetrics form without `# EOF` (the text format is
 * the same with a blank line before each family but the first: `familyStarts`
 * says where each family begins). Written in slices between which the event
 * loop runs, so a family of 100 000 series never holds it in one piece.
 *
 * A series given twice keeps its first place and its last labels and value
 * (what a prom-client gauge set twice does). An unlabelled family with no sample has
 * no sample line (prom-client would invent a 0).
 */
export async function renderGauges(
  families: readonly MetricFamily[],
  pause: () => Promise<void> = nextTurn,
): Promise<{ body: Buffer; familyStarts: number[] }> {
  const segments: Buffer[] = [];
  const familyStarts: number[] = [];
  let bytes = 0;
  let pending = '';
  let budget = SLICE_SAMPLES;
  const flush = () => {
    if (pending === '') return;
    const segment = Buffer.from(pending);
    segments.push(segment);
    bytes += segment.length;
    pending = '';
  };
  const spend = async (work: number) => {
    budget -= work;
    if (budget > 0) return;
    budget = SLICE_SAMPLES;
    await pause();
  };

  for (const f of families) {
    flush();
    familyStarts.push(bytes);
    pending = familyHeader(f.name, f.help, 'gauge');
    const { samples } = f;
    // Every series in the place it first came, with its last labels and value (a prom-client gauge set again): index of its last sample.
    const latest: number[] = [];
    if (f.labelNames.length === 0) {
      if (samples.length > 0) latest.push(samples.length - 1);
    } else {
      const series = new SeriesTable(samples.length, f.labelNames);
      for (let i = 0; i < samples.length; i++) {
        series.add(samples, i, latest);
        if ((i & 255) === 255) await spend(64);
      }
    }
    const name = f.name;
    for (let j = 0; j < latest.length; j++) {
      const sample = samples[latest[j] as number] as (typeof samples)[number];
      pending += `${name}${labelSet(sample.labels)} ${formatValue(sample.value)}\n`;
      if (pending.length >= SEGMENT_CHARS) flush();
      if ((j & 31) === 31) await spend(32);
    }
  }
  flush();
  return { body: await concat(segments, bytes, pause), familyStarts };
}

/**
 * Which samples are the same series (the same value of every label name, a
 * missing label as ""): an open-addressing table of 32-bit hashes of the
 * label values, holding series numbers in a typed array, so that telling
 * 100 000 series apart makes no key string and no map entry for the garbage
 * collector to copy while the refresh runs.
 */
class SeriesTable {
  private readonly slots: Int32Array;
  private readonly mask: number;

  constructor(
    samples: number,
    private readonly names: readonly string[],
  ) {
    let size = 16;
    while (size < samples * 2) size *= 2;
    this.slots = new Int32Array(size).fill(-1);
    this.mask = size - 1;
  }

  /** Notes sample `i`: a new series is appended to `latest`; a series seen before has its entry in `latest` replaced by `i`. */
  add(samples: readonly Sample[], i: number, latest: number[]): void {
    const labels = (samples[i] as Sample).labels;
    const names = this.names;
    // FNV-1a over the values, each followed by a 0 (so that "ab","c" and "a","bc" differ).
    let h = 0x811c9dc5;
    for (let n = 0; n < names.length; n++) {
      const v = labels[names[n] as string] ?? '';
      for (let c = 0; c < v.length; c++) h = Math.imul(h ^ v.charCodeAt(c), 0x01000193);
      h = Math.imul(h, 0x01000193);
    }
    for (let slot = h & this.mask; ; slot = (slot + 1) & this.mask) {
      const series = this.slots[slot] as number;
      if (series === -1) {
        this.slots[slot] = latest.length;
        latest.push(i);
        return;
      }
      if (sameSeries((samples[latest[series] as number] as Sample).labels, labels, names)) {
        latest[series] = i;
        return;
      }
    }
  }
}

function sameSeries(a: Sample['labels'], b: Sample['labels'], names: readonly string[]): boolean {
  for (let n = 0; n < names.length; n++) {
    const name = names[n] as string;
    if ((a[name] ?? '') !== (b[name] ?? '')) return false;
  }
  return true;
}

/** Buffer.concat, copying a slice at a time between turns of the event loop (one big body is many MB). */
export async function concat(parts: readonly Buffer[], length: number, pause: () => Promise<void> = nextTurn): Promise<Buffer> {
  if (parts.length === 1 && (parts[0] as Buffer).length === length) return parts[0] as Buffer;
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  let sincePause = 0;
  for (const part of parts) {
    for (let from = 0; from < part.length; from += COPY_SLICE) {
      const piece = part.subarray(from, from + COPY_SLICE);
      out.set(piece, at);
      at += piece.length;
      sincePause += piece.length;
      if (sincePause >= COPY_SLICE) {
        sincePause = 0;
        await pause();
      }
    }
  }
  return out;
}

const NEWLINE = Buffer.from('\n');

/** The text format of a rendered OpenMetrics body: a blank line before each family but the first. */
export function textFromOpenMetrics(openmetrics: Buffer, familyStarts: readonly number[]): Promise<Buffer> {
  if (familyStarts.length < 2) return Promise.resolve(openmetrics);
  const parts: Buffer[] = [];
  let from = 0;
  for (let i = 1; i < familyStarts.length; i++) {
    const start = familyStarts[i] as number;
    parts.push(openmetrics.subarray(from, start), NEWLINE);
    from = start;
  }
  parts.push(openmetrics.subarray(from));
  return concat(parts, openmetrics.length + familyStarts.length - 1);
}

/** The OpenMetrics form of a rendered text body (`familyStarts` as in the OpenMetrics form). */
export function openMetricsFromText(text: Buffer, familyStarts: readonly number[]): Promise<Buffer> {
  if (familyStarts.length < 2) return Promise.resolve(text);
  const parts: Buffer[] = [];
  let from = 0;
  for (let i = 1; i < familyStarts.length; i++) {
    // Family i begins i bytes further on in the text form; the byte before it is the blank line's newline.
    const start = (familyStarts[i] as number) + i;
    parts.push(text.subarray(from, start - 1));
    from = start;
  }
  parts.push(text.subarray(from));
  return concat(parts, text.length - (familyStarts.length - 1));
}
