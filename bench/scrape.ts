/**
 * Scrape benchmark: the exporter against the simulator (as `npm run demo`),
 * over real HTTP on loopback. Measures the series count, the size of
 * /metrics, the time each refresh takes, the event-loop block of rendering,
 * and the time a scrape takes as Prometheus makes it (OpenMetrics + gzip)
 * and as curl does (text).
 *
 *   npm run bench:scrape                                   # the demo: bench/results/scrape-demo.md
 *   npm run bench:scrape -- --users 10000 --user-metrics   # bench/results/scrape-10000-users.md
 *   npm run bench:scrape -- --scrapes 2000                 # more scrapes per format
 *
 * Figures, not assertions: no test depends on them.
 */
import { simulatedConfig } from './support/simulated-org.js';
import { writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { createExporter } from '../src/exporter.js';
import { createLogger } from '../src/logger.js';

const { values: args } = parseArgs({
  options: {
    scrapes: { type: 'string', default: '500' },
    users: { type: 'string', default: '2000' },
    'user-metrics': { type: 'boolean', default: false },
  },
});
const SCRAPES = Number(args.scrapes);
const USERS = Number(args.users);
const USER_METRICS = args['user-metrics'] === true;
const SCENARIO = USER_METRICS ? `${USERS}-users` : 'demo';

const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

async function main(): Promise<void> {
  const sim = await simulatedConfig(USERS, { LECHAT_USER_METRICS: String(USER_METRICS) });
  const { config } = sim;
  const exporter = createExporter(config, { logger: createLogger({ level: 'warn' }) });
  await exporter.app.listen({ host: '127.0.0.1', port: 0 });
  const url = `${exporter.app.listeningOrigin}/metrics`;

  const refreshMs: Record<string, number> = {};
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  for (const { endpoint } of exporter.scheduler.statuses()) {
    const t = performance.now();
    await exporter.scheduler.refresh(endpoint);
    refreshMs[endpoint] = performance.now() - t;
  }
  loop.disable();
  const longestBlockMs = loop.max / 1e6;

  const measure = async (headers: Record<string, string>) => {
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < SCRAPES; i++) {
      const t = performance.now();
      const res = await request(url, { headers });
      const body = Buffer.from(await res.body.arrayBuffer());
      times.push(performance.now() - t);
      bytes = body.length;
    }
    times.sort((a, b) => a - b);
    return { p50: quantile(times, 0.5), p99: quantile(times, 0.99), mean: times.reduce((a, b) => a + b, 0) / times.length, bytes };
  };

  const om = await measure({ accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'gzip' });
  const text = await measure({});
  const plain = Buffer.from(await (await request(url)).body.arrayBuffer()).toString();
  const gz = Buffer.from(
    await (await request(url, { headers: { accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'gzip' } })).body.arrayBuffer(),
  );
  const samples = plain.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  const mistral = samples.filter((l) => l.startsWith('mistral_'));

  const ms = (n: number) => n.toFixed(2);
  const report = `# Scrape benchmark

Run: ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}.
Setup: the exporter against the simulator (seed 1, ${USERS} users${USER_METRICS ? ', per-user series on, no cap reached' : ''}; in a process of its own), over HTTP on loopback; ${SCRAPES} sequential scrapes per format.
Refresh times include the simulator's answer time (it computes every user's activity per request).
Command: \`npm run bench:scrape -- ${process.argv.slice(2).join(' ')}\` (bench/scrape.ts).

| figure | value |
| --- | --- |
| series served (all) | ${samples.length} |
| series served (\`mistral_*\`) | ${mistral.length} |
| /metrics, text | ${plain.length} bytes |
| /metrics, OpenMetrics gzip | ${gz.length} bytes (inflates to ${gunzipSync(gz).length}) |
| scrape, OpenMetrics + gzip (as Prometheus asks) | p50 ${ms(om.p50)} ms, p99 ${ms(om.p99)} ms, mean ${ms(om.mean)} ms |
| scrape, text, no gzip | p50 ${ms(text.p50)} ms, p99 ${ms(text.p99)} ms, mean ${ms(text.mean)} ms |
${Object.entries(refreshMs)
  .map(([e, t]) => `| refresh of ${e} (fetch, parse, render, compress) | ${ms(t)} ms |`)
  .join('\n')}
| longest event-loop block in the exporter during the refreshes (parse + render) | ${ms(longestBlockMs)} ms |
`;
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`./results/scrape-${SCENARIO}.md`, import.meta.url), report);
  process.stdout.write(report);

  await exporter.app.close();
  await exporter.close();
  sim.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
