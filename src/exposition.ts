import { promisify } from 'node:util';
import { constants, crc32, deflateRaw as deflateRawCallback } from 'node:zlib';
import type { MetricFamily } from './sources/types.js';

const deflateRaw = promisify(deflateRawCallback);

export type Format = 'text' | 'openmetrics';

export const CONTENT_TYPES: Record<Format, string> = {
  text: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

/**
 * One source's metric families, rendered once per refresh in both formats,
 * and compressed, so that a scrape is a buffer copy rather than a
 * serialisation. The OpenMetrics form has no `# EOF`: the server adds one
 * after joining.
 *
 * `deflated` is raw deflate ending in a sync flush and no final block: such
 * pieces join, with the final block of the scrape's own metrics, into ONE
 * deflate stream, so `/metrics` is a single gzip member. (Concatenated gzip
 * members are valid gzip, but curl --compressed and other single-member
 * decoders stop after the first one and would silently show a fraction of
 * the series.)
 */
export interface RenderedChunk {
  body: Record<Format, Buffer>;
  deflated: Record<Format, Buffer>;
  /** Samples in the chunk. */
  series: number;
}

export const EMPTY_CHUNK: RenderedChunk = {
  body: { text: Buffer.alloc(0), openmetrics: Buffer.alloc(0) },
  deflated: { text: Buffer.alloc(0), openmetrics: Buffer.alloc(0) },
  series: 0,
};

const SYNC_FLUSH = { finishFlush: constants.Z_SYNC_FLUSH };

export async function renderChunk(families: readonly MetricFamily[]): Promise<RenderedChunk> {
  if (families.length === 0) return EMPTY_CHUNK;
  const text = Buffer.from(await renderFamilies(families, 'text'));
  const openmetrics = Buffer.from(stripEof(await renderFamilies(families, 'openmetrics')));
  const [textDeflated, omDeflated] = await Promise.all([deflateRaw(text, SYNC_FLUSH), deflateRaw(openmetrics, SYNC_FLUSH)]);
  return {
    body: { text, openmetrics },
    deflated: { text: textDeflated, openmetrics: omDeflated },
    series: families.reduce((n, f) => n + f.samples.length, 0),
  };
}

/** gzip's fixed header: deflate, no name or time, unknown OS (RFC 1952). */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff]);

/**
 * Joins chunks and a tail (the scrape's own metrics) into one gzip member.
 * The CRC of the chunks is kept while they stay the same objects (between
 * refreshes), so a scrape only checksums and compresses its small tail.
 */
export class GzipJoiner {
  private readonly memo: Record<Format, { chunks: readonly RenderedChunk[]; crc: number; length: number }> = {
    text: { chunks: [], crc: 0, length: 0 },
    openmetrics: { chunks: [], crc: 0, length: 0 },
  };

  /** The gzip member as the buffers to write in turn: the chunks' own deflated buffers, shared, not copied. */
  async join(chunks: readonly RenderedChunk[], tail: Buffer, format: Format): Promise<Buffer[]> {
    let memo = this.memo[format];
    if (memo.chunks.length !== chunks.length || memo.chunks.some((c, i) => c !== chunks[i])) {
      let crc = 0;
      let length = 0;
      for (const c of chunks) {
        crc = crc32(c.body[format], crc);
        length += c.body[format].length;
      }
      memo = { chunks: [...chunks], crc, length };
      this.memo[format] = memo;
    }
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(crc32(tail, memo.crc) >>> 0, 0);
    trailer.writeUInt32LE((memo.length + tail.length) % 2 ** 32, 4);
    return [GZIP_HEADER, ...chunks.map((c) => c.deflated[format]), await deflateRaw(tail), trailer];
  }
}

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
 * Renders one family in the text format or OpenMetrics, without its trailing
 * newline: the same bytes prom-client's registry gives (its escaping, its
 * number formatting, its `_total` handling of counters in OpenMetrics), with
 * no registry to build. The golden files hold it to that.
 */
export function renderFamily(family: TypedFamily, format: Format): string {
  const counterInOpenMetrics = format === 'openmetrics' && family.type === 'counter';
  const name = counterInOpenMetrics ? family.name.replace(/_total$/, '') : family.name;
  const lines = [`# HELP ${escapeText(name)} ${escapeText(family.help)}`, `# TYPE ${escapeText(name)} ${family.type}`];
  for (const sample of family.samples) {
    const sampleName = counterInOpenMetrics ? `${sample.name ?? name}_total` : (sample.name ?? name);
    const labels = Object.entries(sample.labels).map(
      ([k, v]) => `${k}="${typeof v === 'string' ? escapeText(v).replace(/"/g, '\\"') : v}"`,
    );
    const timestamp =
      sample.timestampMs === undefined ? '' : ` ${format === 'openmetrics' ? sample.timestampMs / 1000 : sample.timestampMs}`;
    lines.push(`${sampleName}${labels.length > 0 ? `{${labels.join(',')}}` : ''} ${formatValue(sample.value)}${timestamp}`);
  }
  return lines.join('\n');
}

/** A body of families: blank lines between text-format families, none in OpenMetrics, which ends with `# EOF`. */
export function joinFamilies(rendered: readonly string[], format: Format): string {
  if (format === 'openmetrics') return `${rendered.join('\n')}\n# EOF\n`;
  return `${rendered.join('\n\n')}\n`;
}

/**
 * Renders gauge families, yielding to the event loop between families:
 * rendering 80 000 series blocks for a while in all, and scrapes must not
 * wait for it in one piece.
 */
export async function renderFamilies(families: readonly MetricFamily[], format: Format): Promise<string> {
  const parts: string[] = [];
  for (const f of families) {
    parts.push(renderFamily({ ...gaugeSamples(f), type: 'gauge' }, format));
    await new Promise((resolve) => setImmediate(resolve));
  }
  return joinFamilies(parts, format);
}

/** A gauge's samples as prom-client would hold them: one per label set, the last value set winning, in first-set order. */
function gaugeSamples(f: MetricFamily): Omit<TypedFamily, 'type'> {
  const byLabels = new Map<string, { labels: Readonly<Record<string, string>>; value: number }>();
  for (const s of f.samples) {
    const key = f.labelNames.map((n) => s.labels[n]).join('\u0000');
    const seen = byLabels.get(key);
    if (seen) seen.value = s.value;
    else byLabels.set(key, { labels: s.labels, value: s.value });
  }
  return { name: f.name, help: f.help, samples: [...byLabels.values()] };
}

function escapeText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

/** Removes the trailing `# EOF` of an OpenMetrics render; the caller adds one at the very end. */
export function stripEof(openmetrics: string): string {
  return openmetrics.replace(/\n?# EOF\n$/, '\n');
}
