import { constants, crc32, gunzipSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type Format, GzipJoiner, type RenderedChunk, renderChunk } from '../src/exposition.js';
import { crc32Combine } from '../src/render/crc32.js';
import { OwnMetrics } from '../src/own-metrics.js';
import type { EndpointStatus } from '../src/scheduler.js';
import type { MetricFamily } from '../src/sources/types.js';

const families: MetricFamily[] = [
  {
    name: 'mistral_example',
    help: 'An example with a "quote" and a \\ backslash.',
    labelNames: ['model'],
    samples: [
      { labels: { model: 'a"b' }, value: 1.5 },
      { labels: { model: 'c\nd' }, value: 2e-7 },
    ],
  },
  { name: 'mistral_empty', help: 'No samples.', labelNames: [], samples: [] },
];

/** A chunk with every form made. */
async function rendered(fams: MetricFamily[], previous?: RenderedChunk): Promise<RenderedChunk> {
  const chunk = await renderChunk(fams, previous);
  for (const v of ['text', 'openmetrics', 'text+gzip', 'openmetrics+gzip'] as const) await chunk.make(v);
  return chunk;
}

const body = (chunk: RenderedChunk, format: Format) => chunk.body(format) ?? Buffer.alloc(0);

describe('renderChunk', () => {
  it('renders the text format with escaping, and counts series', async () => {
    const chunk = await rendered(families);
    const text = body(chunk, 'text').toString();
    expect(text).toContain('# TYPE mistral_example gauge');
    expect(text).toContain('mistral_example{model="a\\"b"} 1.5');
    expect(text).toContain('mistral_example{model="c\\nd"} 2e-7');
    expect(text).toContain('2e-7\n\n# HELP mistral_empty');
    expect(chunk.series).toBe(2);
  });

  it('renders OpenMetrics without the final # EOF, so chunks can be joined', async () => {
    const om = body(await rendered(families), 'openmetrics').toString();
    expect(om).toContain('# TYPE mistral_example gauge');
    expect(om).not.toContain('# EOF');
    expect(om.endsWith('\n')).toBe(true);
    expect(om).not.toMatch(/\n\n/); // OpenMetrics allows no blank line
  });

  it('makes at first only what Prometheus asks for, the rest on demand, and then with every refresh', async () => {
    const first = await renderChunk(families);
    expect(first.has('openmetrics+gzip')).toBe(true);
    // Held compressed only: the plain bytes are not kept for nobody.
    expect(first.has('openmetrics') || first.has('text') || first.has('text+gzip')).toBe(false);
    // A scrape of the text format, as the server makes it: wanted, then made.
    expect(first.want('text')).toBe(false);
    await first.make('text');
    expect(body(first, 'text').toString()).toContain('mistral_example{model="a\\"b"} 1.5\n');
    const next = await renderChunk(families, first);
    expect(next.has('text') && next.has('openmetrics+gzip')).toBe(true);
    expect(next.has('openmetrics') || next.has('text+gzip')).toBe(false);
    // Whatever form is made from whatever is held, the bytes are the same.
    const all = await rendered(families);
    for (const format of ['text', 'openmetrics'] as const) {
      await next.make(format);
      expect(body(next, format).equals(body(all, format))).toBe(true);
      expect(
        inflateRawSync(next.deflated('openmetrics')?.data ?? Buffer.alloc(0), { finishFlush: constants.Z_SYNC_FLUSH }).equals(
          body(all, 'openmetrics'),
        ),
      ).toBe(true);
    }
  });

  it('stops making a form that no scrape asked for from the last two renderings', async () => {
    let chunk = await renderChunk(families);
    chunk.want('text');
    await chunk.make('text');
    const made: boolean[] = [];
    for (let refresh = 0; refresh < 4; refresh++) {
      chunk = await renderChunk(families, chunk);
      made.push(chunk.has('text'));
    }
    // Made for the two renderings after the one scraped, then no longer; Prometheus's form always.
    expect(made).toEqual([true, true, false, false]);
    expect(chunk.has('openmetrics+gzip')).toBe(true);
    // Asked for again: made at once, and again with the next renderings.
    expect(chunk.want('text')).toBe(false);
    await chunk.make('text');
    expect(body(chunk, 'text').toString()).toContain('mistral_example');
    expect((await renderChunk(families, chunk)).has('text')).toBe(true);
  });

  it('joins chunks and a tail into ONE gzip member that a single-member decoder reads whole', async () => {
    const a = await rendered(families);
    const b = await rendered([{ ...families[0]!, name: 'mistral_other' }]);
    const joiner = new GzipJoiner();
    for (const format of ['text', 'openmetrics'] as const) {
      const tail = Buffer.from('mistral_up{api_endpoint="usage"} 1\n');
      const expected = Buffer.concat([body(a, format), body(b, format), tail]);
      for (let scrape = 0; scrape < 2; scrape++) {
        const parts = await joiner.join([a, b], tail, format);
        // The chunks' deflated buffers are written as they are, not copied.
        expect(parts).toContain(a.deflated(format)?.data);
        const gz = Buffer.concat(parts);
        expect(gunzipSync(gz).equals(expected)).toBe(true);
        // The deflate data between header and trailer alone inflates to everything: one member, not several.
        expect(inflateRawSync(gz.subarray(10, gz.length - 8)).equals(expected)).toBe(true);
        expect(gz.readUInt32LE(gz.length - 8)).toBe(crc32(expected));
        expect(gz.readUInt32LE(gz.length - 4)).toBe(expected.length);
      }
    }
  });

  it('recomputes the checksum when the chunks or the tail change', async () => {
    const a = await rendered(families);
    const b = await rendered([{ ...families[0]!, name: 'mistral_other' }]);
    const joiner = new GzipJoiner();
    await joiner.join([a], Buffer.alloc(0), 'text');
    const gz = Buffer.concat(await joiner.join([a, b], Buffer.alloc(0), 'text'));
    expect(gunzipSync(gz).equals(Buffer.concat([body(a, 'text'), body(b, 'text')]))).toBe(true);
    const tail = Buffer.from('x 1\n');
    const withTail = Buffer.concat(await joiner.join([a, b], tail, 'text'));
    expect(gunzipSync(withTail).equals(Buffer.concat([body(a, 'text'), body(b, 'text'), tail]))).toBe(true);
  });

  it('renders nothing at all for no families', async () => {
    const chunk = await rendered([]);
    expect(body(chunk, 'text').length + body(chunk, 'openmetrics').length + (chunk.deflated('text')?.data.length ?? 1)).toBe(0);
  });
});

describe('crc32Combine', () => {
  it('gives the CRC-32 of two pieces joined, from theirs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.uint8Array({ maxLength: 3000 }), (a, b) => {
        const joined = crc32(Buffer.concat([a, b])) >>> 0;
        expect(crc32Combine(crc32(a), crc32(b), b.length)).toBe(joined);
      }),
    );
    // A long piece (many bits of length): against the checksum of the bytes themselves.
    const long = Buffer.alloc(5_000_017, 0x61);
    expect(crc32Combine(crc32('head'), crc32(long), long.length)).toBe(crc32(Buffer.concat([Buffer.from('head'), long])) >>> 0);
  });
});

describe('OwnMetrics', () => {
  const own = (processMetrics = true) =>
    new OwnMetrics({
      version: '1.2.3',
      revision: 'abc',
      endpoints: [{ endpoints: ['spend_limit', 'usage'] }],
      statuses: (): EndpointStatus[] => [
        {
          endpoint: 'spend_limit',
          up: true,
          intervalMs: 60_000,
          lastSuccessAt: 1_700_000_000_000,
          lastDurationMs: 250,
          seriesDropped: {},
          unreadable: {},
        },
        {
          endpoint: 'usage',
          up: false,
          intervalMs: 300_000,
          lastSuccessAt: undefined,
          lastDurationMs: undefined,
          seriesDropped: { mistral_lechat_agent_messages: 21, mistral_vibe_tool_calls_by_tool: 0 },
          unreadable: undefined,
        },
      ],
      processMetrics,
    });

  it('reads endpoint states at every render', async () => {
    const text = await own(false).render('text');
    expect(text).toContain('mistral_up{api_endpoint="spend_limit"} 1');
    expect(text).toContain('mistral_up{api_endpoint="usage"} 0');
    expect(text).toContain('mistral_exporter_last_success_timestamp_seconds{api_endpoint="spend_limit"} 1700000000');
    expect(text).not.toContain('mistral_exporter_last_success_timestamp_seconds{api_endpoint="usage"}');
    expect(text).toContain('mistral_exporter_refresh_interval_seconds{api_endpoint="usage"} 300');
    expect(text).toContain('mistral_exporter_refresh_duration_seconds{api_endpoint="spend_limit"} 0.25');
    expect(text).toContain(`mistral_exporter_build_info{version="1.2.3",revision="abc",nodejs_version="${process.version}"} 1`);
  });

  it('reports what cardinality caps left out, per metric', async () => {
    const text = await own(false).render('text');
    expect(text).toContain('mistral_exporter_series_dropped{metric="mistral_lechat_agent_messages"} 21');
    expect(text).toContain('mistral_exporter_series_dropped{metric="mistral_vibe_tool_calls_by_tool"} 0');
  });

  it('starts retry and parse-error counters at 0 for every endpoint and reason', async () => {
    const text = await own(false).render('text');
    expect(text).toContain('mistral_exporter_api_retries_total{api_endpoint="usage",reason="429"} 0');
    expect(text).toContain('mistral_exporter_parse_errors_total{api_endpoint="spend_limit"} 0');
  });

  it('keeps counter names right in both formats, however often each is rendered', async () => {
    const m = own(false);
    m.request('usage', '200');
    m.request('usage', '200');
    m.retry('usage', '5xx');
    m.pathInUse('usage', 'usage');
    for (let i = 0; i < 2; i++) {
      const om = await m.render('openmetrics');
      const text = await m.render('text');
      expect(text).toContain('# TYPE mistral_exporter_api_requests_total counter');
      expect(text).toContain('mistral_exporter_api_requests_total{api_endpoint="usage",code="200"} 2');
      expect(om).toContain('# TYPE mistral_exporter_api_requests counter');
      expect(om).toContain('mistral_exporter_api_requests_total{api_endpoint="usage",code="200"} 2');
      expect(om.endsWith('# EOF\n')).toBe(true);
      expect(text).toContain('mistral_exporter_api_retries_total{api_endpoint="usage",reason="5xx"} 1');
      expect(text).toContain('mistral_exporter_endpoint_path_info{api_endpoint="usage",path="usage"} 1');
    }
  });

  it('includes process metrics but not the three gauges named like counters', async () => {
    const text = await own(true).render('text');
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).not.toMatch(/nodejs_active_(handles|requests|resources)_total/);
  });
});
