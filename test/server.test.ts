import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { renderChunk } from '../src/exposition.js';
import { createLogger } from '../src/logger.js';
import type { RenderedChunk } from '../src/render/chunk.js';
import { buildApp } from '../src/server.js';
import type { MetricFamily } from '../src/sources/types.js';

const family = (model: string, value: number): MetricFamily => ({
  name: 'mistral_example',
  help: 'An example.',
  labelNames: ['model'],
  samples: [{ labels: { model }, value }],
});

const PROMETHEUS = {
  accept: 'application/openmetrics-text;version=1.0.0;q=0.6,text/plain;version=0.0.4;q=0.3',
  'accept-encoding': 'gzip',
};

/**
 * The app over stand-ins for the scheduler and the own metrics, whose answers the test changes. `sync`: the own
 * metrics answer at once (as between two collections of the process metrics), else through a promise (a collection).
 */
async function app(sync: boolean) {
  const state = {
    chunks: [await renderChunk([family('a', 1)])] as RenderedChunk[],
    own: Buffer.from('mistral_up 1\n'),
    renders: 0,
  };
  const built = buildApp({
    scheduler: { chunks: () => state.chunks, ready: () => true },
    ownMetrics: {
      renderBytes: (format) => {
        state.renders++;
        const own = format === 'openmetrics' ? Buffer.concat([state.own, Buffer.from('# EOF\n')]) : state.own;
        return sync ? own : Promise.resolve(own);
      },
    },
    logger: createLogger({ level: 'silent' }),
    statusPage: { version: 'x', demo: false, organizations: () => [], secrets: () => [], now: () => 0 },
    limits: {
      requestTimeoutMs: 10_000,
      keepAliveTimeoutMs: 5_000,
      idleTimeoutMs: 10_000,
      maxRequestsPerConnection: 10,
      maxMetricsInFlight: 10,
      maxConnections: 100,
    },
  });
  return { app: built, state };
}

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

/** One request over a real socket; the body as received (still compressed). */
function fetchRaw(port: number, method: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('/metrics answered in the turn that read the request, or through a promise', () => {
  for (const sync of [true, false]) {
    it(`serves every change of the chunks and the own metrics (own metrics ${sync ? 'at once' : 'through a promise'})`, async () => {
      const { app: a, state } = await app(sync);
      apps.push(a);
      const scrape = async (headers: Record<string, string>) => {
        const res = await a.inject({ url: '/metrics', headers });
        expect(res.statusCode).toBe(200);
        expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length);
        return (res.headers['content-encoding'] === 'gzip' ? gunzipSync(res.rawPayload) : res.rawPayload).toString();
      };
      for (const headers of [PROMETHEUS, {}, { 'accept-encoding': 'gzip' }, { accept: PROMETHEUS.accept }] as Record<string, string>[]) {
        state.chunks = [await renderChunk([family('a', 1)], state.chunks[0])];
        state.own = Buffer.from('mistral_up 1\n');
        // Twice the same: the second is the answer kept whole.
        expect(await scrape(headers)).toContain('mistral_example{model="a"} 1\nmistral_up 1\n');
        expect(await scrape(headers)).toContain('mistral_example{model="a"} 1\nmistral_up 1\n');
        state.own = Buffer.from('mistral_up 0\n');
        expect(await scrape(headers)).toContain('mistral_example{model="a"} 1\nmistral_up 0\n');
        state.chunks = [await renderChunk([family('z', 7)], state.chunks[0])];
        expect(await scrape(headers)).toContain('mistral_example{model="z"} 7\nmistral_up 0\n');
        expect(await scrape(headers)).toContain('mistral_example{model="z"} 7\nmistral_up 0\n');
      }
    });

    it(`answers HEAD with the headers of GET and no body (own metrics ${sync ? 'at once' : 'through a promise'})`, async () => {
      const { app: a } = await app(sync);
      apps.push(a);
      await a.listen({ port: 0, host: '127.0.0.1' });
      const { port } = a.server.address() as AddressInfo;
      for (const headers of [PROMETHEUS, {}] as Record<string, string>[]) {
        // The first HEAD makes the answer, the second finds it kept.
        for (let i = 0; i < 2; i++) {
          const head = await fetchRaw(port, 'HEAD', headers);
          const get = await fetchRaw(port, 'GET', headers);
          expect(head.status).toBe(200);
          expect(head.body.length).toBe(0);
          expect(Number(head.headers['content-length'])).toBe(get.body.length);
          for (const name of ['content-type', 'content-encoding', 'vary', 'cache-control'])
            expect(head.headers[name], name).toEqual(get.headers[name]);
        }
      }
    });
  }

  it('renders the own metrics once per scrape, whichever way it is answered', async () => {
    const { app: a, state } = await app(true);
    apps.push(a);
    for (let i = 0; i < 5; i++) await a.inject({ url: '/metrics', headers: PROMETHEUS });
    expect(state.renders).toBe(5);
  });
});
