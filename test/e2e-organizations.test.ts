import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../src/clock.js';
import { loadConfig } from '../src/config/index.js';
import { API_ENDPOINTS } from '../src/endpoints.js';
import { createExporter, type Exporter } from '../src/exporter.js';
import { createLogger } from '../src/logger.js';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { dashboardQueries, dashboardVariables, withLiveVariables } from './support/dashboards.js';
import { startPrometheus, type RunningPrometheus } from './support/prometheus.js';
import { hasTool } from './support/tools.js';

/**
 * One exporter reading two organizations from a config file, scraped by a
 * real Prometheus with the shipped rules: the dashboards' `org` variable
 * lists both, a dashboard set to one organization shows none of the other's
 * series, and an alert of one organization's spend fires for it alone.
 * (test/e2e.test.ts runs the single-organization stack, with no org label.)
 */
const JOB = 'mistral-admin-exporter';
const RULES = new URL('../prometheus/alerts.yml', import.meta.url).pathname;
const enabled = hasTool('prometheus');
const AT = Date.UTC(2026, 10, 15, 12, 0, 0);
const KEYS = { north: 'e2e-north-Kq7Wz3', south: 'e2e-south-Vb2Hn9' };

interface PromResult {
  metric: Record<string, string>;
  value: [number, string];
}

function substitute(expr: string, org: string): string {
  return withLiveVariables(expr, { job: JOB, org });
}

describe.runIf(enabled)('end to end with a real Prometheus: one exporter, two organizations', () => {
  const sims: Simulator[] = [];
  let exporter: Exporter | undefined;
  let prometheus: RunningPrometheus | undefined;
  let dir = '';

  async function query(expr: string): Promise<{ status: string; error?: string; result: PromResult[] }> {
    const res = await fetch(`${prometheus?.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { result: PromResult[] } };
    return { status: body.status, error: body.error, result: body.data?.result ?? [] };
  }

  beforeAll(async () => {
    const clock: Clock = { ...systemClock, now: () => AT };
    // South's monthly limit is nearly spent (its spend mid-month is about 80 EUR); north's is the default 5000 EUR.
    sims.push(await startSimulator({ apiKey: KEYS.north, now: clock.now, seed: 1 }));
    sims.push(await startSimulator({ apiKey: KEYS.south, now: clock.now, seed: 2, org: { spendLimit: 85 } }));
    dir = mkdtempSync(join(tmpdir(), 'mae-e2e-orgs-'));
    const file = join(dir, 'organizations.yaml');
    writeFileSync(
      file,
      `organizations:
  - name: north
    MISTRAL_ADMIN_API_KEY: ${KEYS.north}
    MISTRAL_ADMIN_API_URL: ${sims[0]?.url}
  - name: south
    MISTRAL_ADMIN_API_KEY: ${KEYS.south}
    MISTRAL_ADMIN_API_URL: ${sims[1]?.url}
`,
    );
    const command = loadConfig({
      argv: ['--config.file', file],
      env: {
        REFRESH_INTERVAL: '2s',
        ANALYTICS_REFRESH_INTERVAL: '3s',
        MAX_STALENESS: '1h',
        USAGE_ASSUMED_SERVICE_TIER: 'standard',
        SEAT_PRICE_CHAT: '14.99 EUR',
      },
    });
    if (command.kind !== 'run') throw new Error('unexpected');
    exporter = createExporter(command.config, { logger: createLogger({ level: 'error' }), clock }, command.organizations);
    await exporter.app.listen({ host: '127.0.0.1', port: 0 });
    exporter.start();
    const target = new URL(exporter.app.listeningOrigin).host;
    prometheus = await startPrometheus(
      dir,
      `global: {scrape_interval: 1s, evaluation_interval: 1s}\n` +
        `rule_files: [${JSON.stringify(RULES)}]\n` +
        `scrape_configs:\n  - job_name: ${JOB}\n    static_configs: [{targets: [${JSON.stringify(target)}]}]\n`,
    );
    for (let i = 0; ; i++) {
      const r = await query(`count(mistral_up{job="${JOB}"} == 1)`).catch(() => undefined);
      if (Number(r?.result[0]?.value[1] ?? 0) === 2 * API_ENDPOINTS.length) break;
      if (i > 120)
        throw new Error(`not every endpoint of both organizations came up; prometheus said:\n${prometheus.log.slice(-20).join('')}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    // Enough scrapes for rate() over 10s windows, and for the rules to be evaluated.
    await new Promise((r) => setTimeout(r, 6000));
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    await exporter?.app.close();
    await exporter?.close();
    for (const s of sims) await s.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the org variable lists both organizations, and every other variable resolves', async () => {
    for (const v of dashboardVariables()) {
      const m = /^label_values\((?:(.+),\s*)?(\w+)\)$/.exec(v.query.trim()) as RegExpExecArray;
      const [, selector, label] = m;
      const res = await fetch(
        `${prometheus?.url}/api/v1/series?match[]=${encodeURIComponent(substitute(selector ?? `{${label}!=""}`, '.*'))}`,
      );
      const body = (await res.json()) as { data: Array<Record<string, string>> };
      const values = new Set(body.data.map((s) => s[label as string]).filter((x) => x !== undefined));
      if (v.name === 'org') expect([...values].sort(), `${v.file}`).toEqual(['north', 'south']);
      else expect(values.size, `${v.file}: ${v.name}`).toBeGreaterThan(0);
    }
  });

  it("every dashboard query succeeds; set to one organization, none shows the other's series", async () => {
    const failures: string[] = [];
    const leaks: string[] = [];
    let withNorth = 0;
    for (const q of dashboardQueries()) {
      const all = await query(substitute(q.expr, '.*'));
      if (all.status !== 'success') failures.push(`${q.file}: ${q.panel}: ${all.error}`);
      const north = await query(substitute(q.expr, 'north'));
      if (north.status !== 'success') failures.push(`${q.file}: ${q.panel} (north): ${north.error}`);
      if (north.result.some((r) => r.metric.org === 'north')) withNorth++;
      for (const r of north.result) if (r.metric.org === 'south') leaks.push(`${q.file}: ${q.panel}: ${JSON.stringify(r.metric)}`);
    }
    expect(failures).toEqual([]);
    expect(leaks).toEqual([]);
    expect(withNorth).toBeGreaterThan(20);
  });

  it("south's nearly spent limit makes its alerts go pending, and none of north's", async () => {
    let spendAlerts: Array<Record<string, string>> = [];
    for (let i = 0; i < 60 && spendAlerts.length === 0; i++) {
      const res = await fetch(`${prometheus?.url}/api/v1/alerts`);
      const body = (await res.json()) as { data: { alerts: Array<{ labels: Record<string, string> }> } };
      spendAlerts = body.data.alerts.map((a) => a.labels).filter((l) => /^MistralSpend/.test(l.alertname as string));
      if (spendAlerts.length === 0) await new Promise((r) => setTimeout(r, 500));
    }
    expect(spendAlerts.map((l) => l.alertname)).toContain('MistralSpendLimitNear');
    expect(spendAlerts.map((l) => l.org)).toEqual(spendAlerts.map(() => 'south'));
  });
});
