/**
 * Scrape benchmark: the exporter against the simulator (as `npm run demo`),
 * over real HTTP on loopback. Measures the series count, the size of
 * /metrics, the time a refresh takes, and the time a scrape takes as
 * Prometheus makes it (OpenMetrics + gzip) and as curl does (text).
 *
 *   npm run bench            # writes bench/results/scrape.md
 *   npm run bench -- 2000    # more scrapes per format
 *
 * Figures, not assertions: no test depends on them.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { Secret } from '../src/secret.js';
import { loadConfig } from '../src/config/index.js';
import { createExporter } from '../src/exporter.js';
import { createLogger } from '../src/logger.js';
import { startSimulator } from '../src/simulator/index.js';

const SCRAPES = Number(process.argv[2] ?? 500);
const KEY = 'bench-key';

const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

async function main(): Promise<void> {
  const sim = await startSimulator({ apiKey: KEY });
  const command = loadConfig({ argv: [], env: { MISTRAL_ADMIN_API_KEY: KEY, MISTRAL_ADMIN_API_URL: sim.url, LOG_LEVEL: 'warn' } });
  if (command.kind !== 'run') throw new Error('unexpected');
  const config = { ...command.config, apiKey: new Secret(KEY) };
  const exporter = createExporter(config, { logger: createLogger({ level: 'warn' }) });
  await exporter.app.listen({ host: '127.0.0.1', port: 0 });
  const url = `${exporter.app.listeningOrigin}/metrics`;

  const refreshMs: Record<string, number> = {};
  for (const { endpoint } of exporter.scheduler.statuses()) {
    const t = performance.now();
    await exporter.scheduler.refresh(endpoint);
    refreshMs[endpoint] = performance.now() - t;
  }

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
  const gz = Buffer.from(await (await request(url, { headers: { accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'gzip' } })).body.arrayBuffer());
  const samples = plain.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  const mistral = samples.filter((l) => l.startsWith('mistral_'));

  const ms = (n: number) => n.toFixed(2);
  const report = `# Scrape benchmark

Run: ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}.
Setup: the exporter against the simulator (seed 1, the demo's organization), over HTTP on loopback; ${SCRAPES} sequential scrapes per format.
Command: \`npm run bench\` (bench/scrape.ts).

| figure | value |
| --- | --- |
| series served (all) | ${samples.length} |
| series served (\`mistral_*\`) | ${mistral.length} |
| /metrics, text | ${plain.length} bytes |
| /metrics, OpenMetrics gzip | ${gz.length} bytes (inflates to ${gunzipSync(gz).length}) |
| scrape, OpenMetrics + gzip (as Prometheus asks) | p50 ${ms(om.p50)} ms, p99 ${ms(om.p99)} ms, mean ${ms(om.mean)} ms |
| scrape, text, no gzip | p50 ${ms(text.p50)} ms, p99 ${ms(text.p99)} ms, mean ${ms(text.mean)} ms |
${Object.entries(refreshMs)
  .map(([e, t]) => `| refresh of ${e} (fetch, parse, render, gzip) | ${ms(t)} ms |`)
  .join('\n')}
`;
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/scrape.md', import.meta.url), report);
  process.stdout.write(report);

  await exporter.app.close();
  await exporter.close();
  await sim.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
