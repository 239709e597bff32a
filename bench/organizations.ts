/**
 * Several organizations in one exporter (`--config.file`): what each more
 * organization costs. For 1, 5, 10 and 20 organizations the size of the demo's
 * (2 000 members, per-user series on), one full refresh of every endpoint of
 * every organization: series on /metrics, the exporter's CPU for it (merged
 * rendering included), its size in memory, the body's size, and what one
 * organization's refresh of its largest endpoint costs once the others are
 * there (its series are rendered together with theirs).
 *
 *   npm run bench:organizations
 *   npm run bench:organizations -- --counts 1,10 --users 500
 *
 * The simulators run in child processes (their CPU is not the exporter's);
 * the exporter runs here. Written to bench/results/organizations.{json,md}.
 * Figures, not assertions: CPU time is the process's own (process.cpuUsage),
 * less sensitive than wall time to other work on the machine (not immune:
 * a loaded machine inflates it). The machine's load is written with them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.js';
import { createExporter } from '../src/exporter.js';
import { createLogger } from '../src/logger.js';
import { startSimulatorProcess } from './support/processes.js';

const { values: args } = parseArgs({
  options: {
    counts: { type: 'string', default: '1,5,10,20' },
    users: { type: 'string', default: '2000' },
    output: { type: 'string', default: 'bench/results/organizations' },
  },
});
const KEY = 'organizations-bench-key';
/** Endpoints that others wait for: refreshed first. */
const PROVIDERS = ['workspaces', 'lechat_by_user'];

interface Row {
  organizations: number;
  series: number;
  /** Exporter CPU for one refresh of every endpoint of every organization, their merged rendering included. */
  refreshCpuMs: number;
  /** The same, per organization. */
  perOrganizationCpuMs: number;
  /** CPU of one organization's le Chat by-user refresh once the others' are held (rendered together). */
  oneUserRefreshCpuMs: number;
  rssMiB: number;
  heapMiB: number;
  bodyMiB: number;
  gzipMiB: number;
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return Math.round((used.user + used.system) / 1000);
};

async function measure(count: number, urls: readonly string[]): Promise<Row> {
  const dir = join(tmpdir(), `bench-orgs-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `organizations-${count}.yaml`);
  const entries = urls
    .slice(0, count)
    .map((url, i) => `  - name: org-${i + 1}\n    MISTRAL_ADMIN_API_URL: ${url}\n    MISTRAL_ADMIN_API_KEY: ${KEY}\n`);
  writeFileSync(file, `organizations:\n${entries.join('')}`);
  const command = loadConfig({
    argv: ['--config.file', file],
    env: { LECHAT_USER_METRICS: 'true', REFRESH_INTERVAL: '10m', ANALYTICS_REFRESH_INTERVAL: '10m', REQUEST_TIMEOUT: '1m' },
  });
  if (command.kind !== 'run') throw new Error('unexpected command');
  const exporter = createExporter(command.config, { logger: createLogger({ level: 'error' }) }, command.organizations);
  try {
    const started = process.cpuUsage();
    for (const org of exporter.organizations) {
      const endpoints = org.scheduler.statuses().map((s) => s.endpoint as string);
      const order = [...PROVIDERS.filter((e) => endpoints.includes(e)), ...endpoints.filter((e) => !PROVIDERS.includes(e))];
      for (const endpoint of order) await org.scheduler.refresh(endpoint as never);
    }
    await exporter.whenRendered();
    const refreshCpuMs = cpuMs(started);
    const first = exporter.organizations[0];
    const one = process.cpuUsage();
    await first?.scheduler.refresh('lechat_by_user');
    await exporter.whenRendered();
    const oneUserRefreshCpuMs = cpuMs(one);
    const plain = await exporter.app.inject({ method: 'GET', url: '/metrics' });
    const gzip = await exporter.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { accept: 'application/openmetrics-text; version=1.0.0', 'accept-encoding': 'gzip' },
    });
    const series = plain.body.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    (globalThis as { gc?: () => void }).gc?.();
    const memory = process.memoryUsage();
    const mib = (n: number) => Math.round((n / 2 ** 20) * 100) / 100;
    return {
      organizations: count,
      series,
      refreshCpuMs,
      perOrganizationCpuMs: Math.round(refreshCpuMs / count),
      oneUserRefreshCpuMs,
      rssMiB: mib(memory.rss),
      heapMiB: mib(memory.heapUsed),
      bodyMiB: mib(plain.rawPayload.length),
      gzipMiB: mib(gzip.rawPayload.length),
    };
  } finally {
    await exporter.close();
    await exporter.app.close();
  }
}

async function main(): Promise<void> {
  const counts = String(args.counts)
    .split(',')
    .map((c) => Number(c))
    .sort((a, b) => a - b);
  const most = counts[counts.length - 1] ?? 1;
  process.stderr.write(`organizations: starting ${most} simulated organizations of ${args.users} members\n`);
  const sims = await Promise.all(
    Array.from({ length: most }, (_, i) =>
      startSimulatorProcess(['--api-key', KEY, '--seed', String(i + 1), '--users', String(args.users)]),
    ),
  );
  try {
    // A first round, not reported, warms the JIT: otherwise the first count pays for compiling the code every count runs.
    await measure(
      1,
      sims.map((s) => s.url),
    );
    const rows: Row[] = [];
    for (const count of counts) {
      const row = await measure(
        count,
        sims.map((s) => s.url),
      );
      rows.push(row);
      process.stderr.write(
        `  ${String(count).padStart(3)} organizations: ${row.series} series, refresh CPU ${row.refreshCpuMs} ms (${row.perOrganizationCpuMs} ms each), one by-user refresh ${row.oneUserRefreshCpuMs} ms, RSS ${row.rssMiB} MiB, body ${row.bodyMiB} MiB (${row.gzipMiB} gzipped)\n`,
      );
    }
    write(rows);
  } finally {
    for (const s of sims) s.stop();
  }
}

function write(rows: readonly Row[]): void {
  const machine = `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, Node ${process.version}, load ${os.loadavg()[0]?.toFixed(1)} at the end`;
  const when = new Date().toISOString();
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`${args.output}.json`, `${JSON.stringify({ when, machine, users: Number(args.users), rows }, null, 2)}\n`);
  const md = [
    `# Several organizations in one exporter (${args.users} members each, per-user series on)`,
    '',
    `${when}, ${machine}. Simulators in child processes; every endpoint of every organization refreshed once, one at a time. CPU is the exporter's own; memory after a garbage collection, with every organization's data held.`,
    '',
    '| organizations | series on /metrics | refresh CPU, all (ms) | per organization (ms) | one by-user refresh with the others held (ms) | RSS (MiB) | heap (MiB) | body (MiB) | gzip (MiB) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.organizations} | ${r.series} | ${r.refreshCpuMs} | ${r.perOrganizationCpuMs} | ${r.oneUserRefreshCpuMs} | ${r.rssMiB} | ${r.heapMiB} | ${r.bodyMiB} | ${r.gzipMiB} |`,
    ),
    '',
  ].join('\n');
  writeFileSync(`${args.output}.md`, md);
  process.stderr.write(`organizations: written to ${args.output}.{json,md}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`organizations: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
