import type { ServerOptions as HttpsOptions } from 'node:https';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import Negotiator from 'negotiator';
import { systemClock } from './clock.js';
import { formatDuration } from './config/values.js';
import { CONTENT_TYPES, GzipJoiner, type Format } from './exposition.js';
import type { Logger } from './logger.js';
import type { OwnMetrics } from './own-metrics.js';
import type { Scheduler } from './scheduler.js';

export interface AppOptions {
  scheduler: Pick<Scheduler, 'chunks' | 'ready' | 'details'>;
  ownMetrics: Pick<OwnMetrics, 'render' | 'pathOf'>;
  logger: Logger;
  version: string;
  demo: boolean;
  /** Shown on the landing page; never holds the key. */
  apiUrl: string;
  now?: () => number;
  /** Serve HTTPS with these options (web-listener.ts); plain HTTP when absent. */
  https?: HttpsOptions;
}

const OPENMETRICS = 'application/openmetrics-text';

/**
 * OpenMetrics when the scraper prefers it (Prometheus does), else the text
 * format. Versions are not compared: we serve OpenMetrics 1.0.0 and text
 * 0.0.4, what every Prometheus since 2.5 reads.
 */
export function negotiateFormat(accept: string | undefined): Format {
  const preferred = new Negotiator({ headers: { accept: accept ?? '*/*' } }).mediaTypes();
  for (const type of preferred) {
    if (type === OPENMETRICS) return 'openmetrics';
    if (type === 'text/plain' || type === 'text/*' || type === '*/*') return 'text';
  }
  return 'text';
}

export function wantsGzip(acceptEncoding: string | undefined): boolean {
  if (acceptEncoding === undefined) return false;
  return new Negotiator({ headers: { 'accept-encoding': acceptEncoding } }).encoding(['gzip', 'identity']) === 'gzip';
}

export function buildApp(options: AppOptions): FastifyInstance {
  const { scheduler, ownMetrics } = options;
  const now = options.now ?? systemClock.now;
  const gzip = new GzipJoiner();
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // A scrape every few seconds would drown the log; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // Fastify types an HTTPS app apart; the routes below are the same either way.
    ...(options.https === undefined ? {} : { https: options.https }),
  }) as FastifyInstance;

  app.get('/metrics', async (request, reply) => {
    const format = negotiateFormat(request.headers.accept);
    const chunks = scheduler.chunks();
    const own = Buffer.from(await ownMetrics.render(format));
    reply.header('content-type', CONTENT_TYPES[format]).header('vary', 'Accept, Accept-Encoding').header('cache-control', 'no-store');
    if (wantsGzip(request.headers['accept-encoding'])) {
      reply.header('content-encoding', 'gzip');
      return gzip.join(chunks, own, format);
    }
    return Buffer.concat([...chunks.map((c) => c.body[format]), own]);
  });

  app.get('/-/healthy', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('OK\n'));

  app.get('/-/ready', async (_request, reply) => {
    reply.type('text/plain; charset=utf-8');
    if (scheduler.ready()) return reply.send('Ready\n');
    return reply.code(503).send('Not ready: the first refresh of every Admin API endpoint has not ended yet\n');
  });

  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(landingPage(options, now())));

  return app;
}

function landingPage(options: AppOptions, now: number): string {
  const rows = options.scheduler
    .details()
    .map((d) => {
      const state = d.up ? 'up' : d.lastSuccessAt === undefined && d.failure === undefined ? 'pending' : 'down';
      const last =
        d.lastSuccessAt === undefined ? 'never' : `${formatDuration(Math.max(0, Math.round((now - d.lastSuccessAt) / 1000) * 1000))} ago`;
      const next =
        d.nextRefreshAt === undefined ? '' : `in ${formatDuration(Math.max(0, Math.round((d.nextRefreshAt - now) / 1000) * 1000))}`;
      return (
        `<tr><td>${esc(d.describe)}</td><td class="${state}">${state}</td><td>${esc(last)}</td>` +
        `<td>${esc(next)}</td><td>${d.series ?? ''}</td><td><code>${esc(options.ownMetrics.pathOf(d.endpoint) ?? '')}</code></td>` +
        `<td>${esc(d.failure?.message ?? '')}</td></tr>`
      );
    })
    .join('\n');
  const demo = options.demo
    ? '<p class="demo"><strong>Demo mode:</strong> every figure comes from a built-in simulated Admin API, not from Mistral.</p>'
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mistral Admin API exporter</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}.up{color:#080}.down{color:#b00}.pending{color:#666}.demo{background:#fff3cd;padding:.5em}</style>
</head><body>
<h1>Mistral Admin API exporter</h1>
<p>Version ${esc(options.version)}. Admin API: <code>${esc(options.apiUrl)}</code></p>
${demo}
<ul><li><a href="metrics">/metrics</a>: the metrics</li><li><a href="-/healthy">/-/healthy</a>: liveness</li><li><a href="-/ready">/-/ready</a>: readiness (every endpoint tried once)</li></ul>
<table><thead><tr><th>Endpoint</th><th>State</th><th>Last success</th><th>Next refresh</th><th>Series</th><th>Path</th><th>Last error</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
