import { promisify } from 'node:util';
import { constants, crc32, deflateRaw as deflateRawCallback } from 'node:zlib';
import { Gauge, Registry, type RegistryContentType } from 'prom-client';
import type { MetricFamily } from './sources/types.js';

const deflateRaw = promisify(deflateRawCallback);

export type Format = 'text' | 'openmetrics';

export const CONTENT_TYPES: Record<Format, RegistryContentType> = {
  text: Registry.PROMETHEUS_CONTENT_TYPE,
  openmetrics: Registry.OPENMETRICS_CONTENT_TYPE,
};

/** A registry rendering `format` (prom-client's typings omit the constructor argument). */
export function registryFor(format: Format): Registry<RegistryContentType> {
  const registry = new Registry<RegistryContentType>();
  registry.setContentType(CONTENT_TYPES[format]);
  return registry;
}

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

  async join(chunks: readonly RenderedChunk[], tail: Buffer, format: Format): Promise<Buffer> {
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
    return Buffer.concat([GZIP_HEADER, ...chunks.map((c) => c.deflated[format]), await deflateRaw(tail), trailer]);
  }
}

/**
 * Renders gauge families with prom-client (escaping, number formatting and
 * the two formats are its job), one family at a time in a fresh registry,
 * yielding to the event loop between families: rendering 80 000 series
 * blocks for a few hundred milliseconds in all, and scrapes must not wait
 * for it in one piece. The result is the same text a single registry gives.
 */
export async function renderFamilies(families: readonly MetricFamily[], format: Format): Promise<string> {
  const parts: string[] = [];
  for (const f of families) {
    const registry = registryFor(format);
    const gauge = new Gauge({ name: f.name, help: f.help, labelNames: [...f.labelNames], registers: [registry] });
    for (const s of f.samples) gauge.set(s.labels, s.value);
    const rendered = await registry.metrics();
    parts.push(format === 'openmetrics' ? stripEof(rendered) : rendered);
    await new Promise((resolve) => setImmediate(resolve));
  }
  // prom-client separates text-format families with a blank line, and OpenMetrics ones with none.
  const body = parts.join(format === 'text' ? '\n' : '');
  return format === 'openmetrics' ? `${body}# EOF\n` : body;
}

/** Removes the trailing `# EOF` of an OpenMetrics render; the caller adds one at the very end. */
export function stripEof(openmetrics: string): string {
  return openmetrics.replace(/\n?# EOF\n$/, '\n');
}
