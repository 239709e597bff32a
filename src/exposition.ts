import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { Gauge, Registry, type RegistryContentType } from 'prom-client';
import type { MetricFamily } from './sources/types.js';

const gzip = promisify(gzipCallback);

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
 * One source's metric families, rendered once per refresh in both formats
 * and gzipped, so that a scrape is a buffer copy rather than a serialisation.
 * The OpenMetrics form has no `# EOF`: the server adds one after joining.
 * Gzip members can be concatenated into one valid gzip stream (RFC 1952), so
 * the compressed chunks are joined as they are.
 */
export interface RenderedChunk {
  body: Record<Format, Buffer>;
  gzip: Record<Format, Buffer>;
  /** Samples in the chunk. */
  series: number;
}

export const EMPTY_CHUNK: RenderedChunk = {
  body: { text: Buffer.alloc(0), openmetrics: Buffer.alloc(0) },
  gzip: { text: Buffer.alloc(0), openmetrics: Buffer.alloc(0) },
  series: 0,
};

export async function renderChunk(families: readonly MetricFamily[]): Promise<RenderedChunk> {
  if (families.length === 0) return EMPTY_CHUNK;
  const text = Buffer.from(await renderFamilies(families, 'text'));
  const openmetrics = Buffer.from(stripEof(await renderFamilies(families, 'openmetrics')));
  const [textGz, omGz] = await Promise.all([gzip(text), gzip(openmetrics)]);
  return {
    body: { text, openmetrics },
    gzip: { text: textGz, openmetrics: omGz },
    series: families.reduce((n, f) => n + f.samples.length, 0),
  };
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
