/**
 * Large-organization figures: how many series each endpoint gives, how long
 * one refresh of it takes, how many Admin API requests it costs and how much
 * of the exporter's CPU, for an organization of 1 000 workspaces, 10 000 API
 * keys and 50 000 members (issue 9's "done when"), or any size asked.
 *
 *   npm run bench:large-org
 *   npm run bench:large-org -- --users 5000 --workspaces 100 --api-keys 1000
 *
 * The simulator runs in a child process (its CPU is not the exporter's); the
 * exporter runs here on the real clock with every endpoint, per-user series
 * on and MISTRAL_WORKSPACE_IDS as given (default `all` when the exporter knows
 * it). Endpoints are refreshed one at a time, the ones others follow
 * (workspaces, le Chat by user) first, so each refresh's wall time is its
 * own. Written to bench/results/large-org.{json,md}. Figures, not assertions.
 */
import { startSimulatorProcess } from './support/processes.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.js';
import { createExporter } from '../src/exporter.js';
import { createLogger } from '../src/logger.js';

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '50000' },
    workspaces: { type: 'string', default: '1000' },
    'api-keys': { type: 'string', default: '10000' },
    'workspace-ids': { type: 'string', default: 'all' },
    output: { type: 'string', default: 'bench/results/large-org' },
  },
});
const KEY = 'large-org-key';
/** Endpoints that others wait for (ctx.peers.tried): refreshed first, so that no refresh here waits on one not started. */
const PROVIDERS = ['workspaces', 'lechat_by_user'];

interface Row {
  endpoint: string;
  up: boolean;
  series: number;
  refreshMs: number;
  cpuMs: number;
  requests: number;
  error?: string;
}

/** Requests per endpoint so far, from the exporter's own counter. */
function requestsByEndpoint(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^mistral_exporter_api_requests_total\{[^}]*api_endpoint="([^"]+)"[^}]*\} (\S+)/.exec(line);
    if (m?.[1]) out.set(m[1], (out.get(m[1]) ?? 0) + Number(m[2]));
  }
  return out;
}

async function main(): Promise<void> {
  process.stderr.write(
    `large-org: simulating ${args.users} members, ${args.workspaces} workspaces, ${args['api-keys']} API keys (generating takes a while)\n`,
  );
  const sim = await startSimulatorProcess([
    '--api-key',
    KEY,
    '--users',
    String(args.users),
    '--workspaces',
    String(args.workspaces),
    '--api-keys',
    String(args['api-keys']),
  ]);
  try {
    const env: Record<string, string> = {
      MISTRAL_ADMIN_API_KEY: KEY,
      MISTRAL_ADMIN_API_URL: sim.url,
      LECHAT_USER_METRICS: 'true',
      LOG_LEVEL: 'warn',
      REFRESH_INTERVAL: '10m',
      ANALYTICS_REFRESH_INTERVAL: '10m',
      REQUEST_TIMEOUT: '2m',
      MAX_RESPONSE_SIZE: '512MiB',
    };
    if (args['workspace-ids'] !== '') env.MISTRAL_WORKSPACE_IDS = String(args['workspace-ids']);
    const command = loadConfig({ argv: [], env });
    if (command.kind !== 'run') throw new Error('unexpected command');
    const exporter = createExporter(command.config, { logger: createLogger({ level: 'error' }) });
    const scrape = async () => (await exporter.app.inject({ method: 'GET', url: '/metrics' })).body;
    const endpoints = exporter.scheduler.statuses().map((s) => s.endpoint as string);
    const order = [...PROVIDERS.filter((e) => endpoints.includes(e)), ...endpoints.filter((e) => !PROVIDERS.includes(e))];
    const rows: Row[] = [];
    for (const endpoint of order) {
      const before = requestsByEndpoint(await scrape()).get(endpoint) ?? 0;
      const cpu = process.cpuUsage();
      const started = performance.now();
      await exporter.scheduler.refresh(endpoint as never);
      const refreshMs = performance.now() - started;
      const used = process.cpuUsage(cpu);
      const detail = exporter.scheduler.details().find((d) => d.endpoint === endpoint);
      const after = requestsByEndpoint(await scrape()).get(endpoint) ?? 0;
      const row: Row = {
        endpoint,
        up: detail?.up ?? false,
        series: detail?.series ?? 0,
        refreshMs: Math.round(refreshMs),
        cpuMs: Math.round((used.user + used.system) / 1000),
        requests: after - before,
        ...(detail?.failure ? { error: detail.failure.message } : {}),
      };
      rows.push(row);
      process.stderr.write(
        `  ${endpoint.padEnd(22)} ${row.up ? 'up  ' : 'DOWN'} series ${String(row.series).padStart(7)}  refresh ${String(row.refreshMs).padStart(6)} ms  cpu ${String(row.cpuMs).padStart(6)} ms  requests ${row.requests}${row.error ? `  ${row.error}` : ''}\n`,
      );
    }
    const total = (await scrape()).split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    await exporter.close();
    await exporter.app.close();
    writeResults(rows, total);
  } finally {
    sim.stop();
  }
}

function writeResults(rows: readonly Row[], total: number): void {
  const org = { members: Number(args.users), workspaces: Number(args.workspaces), apiKeys: Number(args['api-keys']) };
  const machine = `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, Node ${process.version}`;
  const result = { when: new Date().toISOString(), machine, org, workspaceIds: args['workspace-ids'], seriesOnMetrics: total, rows };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`${args.output}.json`, `${JSON.stringify(result, null, 2)}\n`);
  const md = [
    `# Large organization: ${org.members} members, ${org.workspaces} workspaces, ${org.apiKeys} API keys`,
    '',
    `${result.when}, ${machine}. Simulator in a child process on loopback; MISTRAL_WORKSPACE_IDS=${args['workspace-ids'] || '(unset)'}, LECHAT_USER_METRICS=true; one refresh per endpoint, one at a time. Series on /metrics in all: ${total} (the exporter's own included).`,
    '',
    '| endpoint | up | series | refresh (ms, wall) | exporter CPU (ms) | requests |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) => `| ${r.endpoint} | ${r.up ? 'yes' : `no: ${r.error ?? ''}`} | ${r.series} | ${r.refreshMs} | ${r.cpuMs} | ${r.requests} |`,
    ),
    '',
  ].join('\n');
  writeFileSync(`${args.output}.md`, md);
  process.stderr.write(`large-org: written to ${args.output}.{json,md}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`large-org: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
