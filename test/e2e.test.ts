import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { systemClock, type Clock } from '../src/clock.js';
import { loadConfig } from '../src/config/index.js';
import { createExporter, type Exporter } from '../src/exporter.js';
import { API_ENDPOINTS } from '../src/endpoints.js';
import { createLogger } from '../src/logger.js';
import { DEFAULT_SPEND_LIMIT, startSimulator, type Simulator } from '../src/simulator/index.js';
import {
  dashboardAnnotations,
  dashboardQueries,
  dashboardVariables,
  EMPTY_ON_FIRST_UTC_DAY,
  emptyPanelsAllowed,
  withLiveVariables,
} from './support/dashboards.js';
import { startPrometheus, type RunningPrometheus } from './support/prometheus.js';
import { hasTool } from './support/tools.js';

/**
 * The simulator, two exporter replicas and a real Prometheus (Debian's
 * package) scraping them every second with the shipped alert rules. Every
 * dashboard query and rule expression is run through Prometheus's HTTP API.
 *
 * The simulator and the exporters run on a clock frozen at a chosen instant
 * (their timers stay real), so what the dashboards show does not depend on
 * the day the suite runs. The whole stack runs once mid-month and once in
 * the first hour of a year, when the spend projection is absent by design.
 * Prometheus keeps the real time: queries comparing `time()` with the
 * exporter's timestamps (data age) show the distance between the two clocks,
 * and still answer. The healthy organization has no alert pending (see
 * CLOCK_DEPENDENT_ALERTS for the rules checked on the exporter's clock), and
 * a broken one makes the expected alerts go pending.
 */
const JOB = 'mistral-admin-exporter';
const KEY = 'e2e-key-Zp4Qm8';
const RULES = new URL('../prometheus/alerts.yml', import.meta.url).pathname;
const enabled = hasTool('prometheus');

const INSTANTS = [
  { name: 'mid-month', at: Date.UTC(2026, 10, 15, 12, 0, 0) },
  { name: "a month's and a year's first hour", at: Date.UTC(2027, 0, 1, 0, 20, 0) },
];

interface PromResult {
  metric: Record<string, string>;
  value: [number, string];
}

interface PromAlert {
  labels: Record<string, string>;
  state: string;
}

interface AlertRule {
  alert?: string;
  record?: string;
  expr: string;
}

const rules = (parseYaml(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: AlertRule[] }> }).groups.flatMap((g) => g.rules);

/**
 * MistralExporterStale compares Prometheus's `time()` with the exporter's
 * mistral_exporter_last_success_timestamp_seconds. Here the exporter's clock
 * is frozen at a chosen instant while Prometheus keeps the real time, so that
 * comparison measures the distance between the two clocks (weeks, before or
 * after), not the age of the data: the alert goes pending whenever the suite
 * runs after the chosen instant, healthy or not. So its alerts are left out of
 * what Prometheus reports, and the rule is checked instead with `time()` read
 * on the exporter's clock (which keeps its "never refreshed" half meaningful).
 */
const CLOCK_DEPENDENT_ALERTS = ['MistralExporterStale', 'MistralAnalyticsDataLate'];

/** The recording rule the reconciliation panels compute from raw metrics. */
const RECONCILIATION_RECORD = 'job_currency:mistral_usage_cost:relative_difference_to_reported_spend';

/**
 * The API key alerts compare Prometheus's `time()` with the keys' dates,
 * which the simulator draws around its own frozen clock: left out of what
 * Prometheus reports for the same reason, they are checked on the exporter's
 * clock against the simulator's truth instead.
 */
const KEY_ALERTS: readonly string[] = ['MistralApiKeyExpiringSoon', 'MistralApiKeyUnused'];

/** An alert as `Name{label="value",...}`, without the labels every alert of the job carries. */
function alertKey(a: PromAlert): string {
  const { alertname, job: _job, severity: _severity, ...rest } = a.labels;
  const labels = Object.entries(rest)
    .sort()
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return labels.length > 0 ? `${alertname}{${labels.join(',')}}` : (alertname as string);
}

/**
 * Grafana's variables, as the dashboards would have them with every instance
 * selected. `org` is All, `.*`: the exporters here read one organization from
 * the environment, so their series have no `org` label, which `.*` matches.
 */
function substitute(expr: string, instance = '.*'): string {
  return withLiveVariables(expr, { job: JOB, instance });
}

/** A result without the labels that tell replicas apart, sorted, for comparing. */
function canonical(result: PromResult[]): string[] {
  return result
    .map((r) => {
      const { instance: _i, pod: _p, ...labels } = r.metric;
      return `${JSON.stringify(Object.entries(labels).sort())} ${Number(r.value[1]).toPrecision(12)}`;
    })
    .sort();
}

/** The simulator, two replicas and Prometheus, all at `at` (frozen): started before the tests of the enclosing describe, stopped after. */
function useStack(at: number) {
  let sim: Simulator | undefined;
  let exporters: Exporter[] = [];
  let prometheus: RunningPrometheus | undefined;
  let dir = '';
  const stack = {
    promUrl: '',
    exporters: () => exporters,
    simulator: () => sim as Simulator,
    /** Evaluates `expr` now, or at `time` (Unix seconds): two queries of `time()` compare only at the same instant. */
    async query(expr: string, time?: number): Promise<{ status: string; error?: string; result: PromResult[] }> {
      const at = time === undefined ? '' : `&time=${time}`;
      const res = await fetch(`${stack.promUrl}/api/v1/query?query=${encodeURIComponent(expr)}${at}`);
      const body = (await res.json()) as { status: string; error?: string; data?: { result: PromResult[] } };
      return { status: body.status, error: body.error, result: body.data?.result ?? [] };
    },
    /**
     * Alerts pending or firing, sorted, but for the one that only measures the
     * distance between the clocks. Every rule has a `for` of 5m or more and the
     * stack runs for seconds: nothing reaches `firing`, but `pending` is an
     * expression that holds now.
     */
    async activeAlerts(): Promise<string[]> {
      const res = await fetch(`${stack.promUrl}/api/v1/alerts`);
      const body = (await res.json()) as { status: string; data: { alerts: PromAlert[] } };
      if (body.status !== 'success') throw new Error(`/api/v1/alerts: ${body.status}`);
      return body.data.alerts
        .filter((a) => !CLOCK_DEPENDENT_ALERTS.includes(a.labels.alertname as string) && !KEY_ALERTS.includes(a.labels.alertname as string))
        .map((a) => {
          if (a.state !== 'pending' && a.state !== 'firing') throw new Error(`unexpected alert state ${a.state}`);
          return `${alertKey(a)} ${a.state}`;
        })
        .sort();
    },
  };

  async function waitFor(what: string, check: () => Promise<boolean>, attempts = 120): Promise<void> {
    for (let i = 0; i < attempts; i++) {
      if (await check().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`timed out waiting for ${what}; prometheus said:\n${prometheus?.log.slice(-20).join('') ?? ''}`);
  }

  beforeAll(async () => {
    // One frozen instant for the simulator and both replicas: they serve the same data.
    const clock: Clock = { ...systemClock, now: () => at };
    sim = await startSimulator({ apiKey: KEY, now: clock.now });
    for (let i = 0; i < 2; i++) {
      const command = loadConfig({
        argv: [],
        env: {
          MISTRAL_ADMIN_API_KEY: KEY,
          MISTRAL_ADMIN_API_URL: sim.url,
          REFRESH_INTERVAL: '2s',
          ANALYTICS_REFRESH_INTERVAL: '3s',
          MAX_STALENESS: '1h',
          // The simulated organization bills usage entries that name no tier at standard: said, they are priced.
          USAGE_ASSUMED_SERVICE_TIER: 'standard',
          // Idle seats have a price: the cost panel has data.
          SEAT_PRICE_CHAT: '14.99 EUR',
        },
      });
      if (command.kind !== 'run') throw new Error('unexpected');
      const exporter = createExporter(command.config, { logger: createLogger({ level: 'error' }), clock });
      await exporter.app.listen({ host: '127.0.0.1', port: 0 });
      exporter.scheduler.start();
      exporters.push(exporter);
    }
    dir = mkdtempSync(join(tmpdir(), 'mae-e2e-'));
    const targets = exporters.map((e) => new URL(e.app.listeningOrigin).host);
    prometheus = await startPrometheus(
      dir,
      `global: {scrape_interval: 1s, evaluation_interval: 1s}\n` +
        `rule_files: [${JSON.stringify(RULES)}]\n` +
        `scrape_configs:\n  - job_name: ${JOB}\n    static_configs: [{targets: ${JSON.stringify(targets)}}]\n`,
    );
    stack.promUrl = prometheus.url;
    await waitFor('every endpoint of both replicas up in Prometheus', async () => {
      const r = await stack.query(`count(mistral_up{job="${JOB}"} == 1)`);
      return Number(r.result[0]?.value[1] ?? 0) === 2 * API_ENDPOINTS.length;
    });
    // Enough scrapes for rate() over 10s windows.
    await new Promise((r) => setTimeout(r, 6000));
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    for (const e of exporters) {
      await e.app.close();
      await e.close();
    }
    exporters = [];
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  return stack;
}

for (const { name, at } of INSTANTS) {
  const firstUtcDay = new Date(at).getUTCDate() === 1;

  describe.runIf(enabled)(`end to end with a real Prometheus, at ${new Date(at).toISOString()} (${name})`, () => {
    const stack = useStack(at);
    const query = (expr: string, time?: number) => stack.query(expr, time);

    it('scrapes both replicas as OpenMetrics without error', async () => {
      const res = await fetch(`${stack.promUrl}/api/v1/targets`);
      const body = (await res.json()) as { data: { activeTargets: Array<{ health: string; lastError: string }> } };
      expect(body.data.activeTargets).toHaveLength(2);
      for (const t of body.data.activeTargets) expect([t.health, t.lastError]).toEqual(['up', '']);
    });

    it('runs every dashboard query: each succeeds, and each returns data unless the README says it may be empty at this instant', async () => {
      const queries = dashboardQueries();
      const mayBeEmpty = emptyPanelsAllowed();
      // On a month's first UTC day these panels are empty (the projection is absent), and only then.
      const emptyOnFirstDay = emptyPanelsAllowed(EMPTY_ON_FIRST_UTC_DAY);
      expect(queries.length).toBeGreaterThan(20);
      expect(emptyOnFirstDay.size).toBeGreaterThan(0);
      const failures: string[] = [];
      const empty = new Set<string>();
      for (const q of queries) {
        const r = await query(substitute(q.expr));
        if (r.status !== 'success') failures.push(`${q.file}: ${q.panel}: ${r.error}`);
        else if (r.result.length === 0) empty.add(`${q.file}: ${q.panel}`);
      }
      expect(failures).toEqual([]);
      const unexpectedlyEmpty = [...empty].filter((p) => !mayBeEmpty.has(p) && !(firstUtcDay && emptyOnFirstDay.has(p)));
      expect(unexpectedlyEmpty.map((p) => `${p}: no data`)).toEqual([]);
      if (firstUtcDay)
        expect([...emptyOnFirstDay].filter((p) => !empty.has(p)).map((p) => `${p}: has data on a first UTC day`)).toEqual([]);
    });

    it('runs every annotation query without error (they find an event only when one happens while Prometheus scrapes)', async () => {
      const annotations = dashboardAnnotations();
      expect(annotations.length).toBeGreaterThan(0);
      for (const a of annotations) {
        const r = await query(substitute(a.expr));
        expect(r.status, `${a.file}: ${a.name}: ${r.error}`).toBe('success');
        for (const s of r.result) expect(Object.keys(s.metric), `${a.file}: ${a.name}`).toEqual(['event_type']);
      }
    });

    it('gives the same answer with two replicas as with one (max over instances, never sum)', async () => {
      const one = new URL(stack.exporters()[0]!.app.listeningOrigin).host.replace(/\./g, '\\\\.');
      const differences: string[] = [];
      let withData = 0;
      // The exporter's own health is per replica on purpose; every Admin API figure must not be.
      for (const q of dashboardQueries().filter((x) => !/mistral_exporter_|mistral_up|process_|nodejs_|\bup\{/.test(x.expr))) {
        // Prometheus's own now (it keeps the real time when the test's clock is moved, e.g. under faketime).
        const now = Number((await query('vector(time())')).result[0]?.value[1]);
        const both = await query(substitute(q.expr), now);
        const single = await query(substitute(q.expr, one), now);
        if (both.result.length > 0) withData++;
        if (JSON.stringify(canonical(both.result)) !== JSON.stringify(canonical(single.result))) differences.push(`${q.file}: ${q.panel}`);
      }
      expect(differences).toEqual([]);
      // Two empty answers are equal too: most of the comparisons must be of data.
      expect(withData).toBeGreaterThan(20);
    });

    it("resolves every dashboard variable's label_values against real series", async () => {
      const variables = dashboardVariables();
      expect(variables.length).toBeGreaterThan(5);
      for (const v of variables) {
        const m = /^label_values\((?:(.+),\s*)?(\w+)\)$/.exec(v.query.trim());
        expect(m, `${v.file}: ${v.name}: ${v.query}`).not.toBeNull();
        const [, selector, label] = m as RegExpExecArray;
        const match = substitute(selector ?? `{${label}!=""}`);
        const res = await fetch(`${stack.promUrl}/api/v1/series?match[]=${encodeURIComponent(match)}`);
        const body = (await res.json()) as { status: string; data: Array<Record<string, string>> };
        expect(body.status, `${v.file}: ${v.name}`).toBe('success');
        expect(body.data.length, `${v.file}: ${v.name}: no series match ${match}`).toBeGreaterThan(0);
        // A single-organization exporter's series have no org label: the variable is All alone, `.*`.
        const values = body.data.filter((s) => s[label as string] !== undefined).length;
        if (v.name === 'org') expect(values, `${v.file}: ${v.name}`).toBe(0);
        else expect(values, `${v.file}: ${v.name}`).toBeGreaterThan(0);
      }
    });

    it('evaluates every shipped rule without error', async () => {
      expect(rules.length).toBeGreaterThan(5);
      for (const rule of rules) {
        const r = await query(rule.expr);
        expect(r.status, `${rule.alert ?? rule.record}: ${r.error}`).toBe('success');
      }
      const res = await fetch(`${stack.promUrl}/api/v1/rules`);
      const body = (await res.json()) as {
        data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> };
      };
      const loaded = body.data.groups.flatMap((g) => g.rules);
      expect(loaded.map((r) => r.name).sort()).toEqual(rules.map((r) => r.alert ?? r.record).sort());
      for (const r of loaded) expect([r.name, r.health, r.lastError ?? '']).toEqual([r.name, 'ok', '']);
    });

    it('runs every PromQL example of the README and the metrics reference', async () => {
      const examples = ['../README.md', '../docs/metrics.md'].flatMap((doc) => {
        const text = readFileSync(new URL(doc, import.meta.url), 'utf8');
        // Each ```promql block holds queries separated by blank lines, with # comments.
        return [...text.matchAll(/```promql\n([\s\S]*?)```/g)].flatMap((m) =>
          (m[1] as string)
            .split(/\n\s*\n/)
            .map((q) =>
              q
                .split('\n')
                .filter((l) => !l.trim().startsWith('#'))
                .join('\n')
                .trim(),
            )
            .filter((q) => q !== '')
            .map((q) => ({ doc, q })),
        );
      });
      expect(examples.length).toBeGreaterThan(5);
      for (const { doc, q } of examples) {
        const r = await query(q);
        expect(r.status, `${doc}: ${q}: ${r.error}`).toBe('success');
      }
    });

    it(`serves the month as the exporter's clock sees it: spend${firstUtcDay ? ' without a projection' : ' and its projection'}`, async () => {
      const monthStart = Date.UTC(new Date(at).getUTCFullYear(), new Date(at).getUTCMonth(), 1) / 1000;
      const period = await query('max(mistral_billing_period_start_timestamp_seconds)');
      expect(Number(period.result[0]?.value[1])).toBe(monthStart);
      const spend = await query('sum by (currency) (max without (instance, pod) (mistral_spend))');
      expect(spend.result.map((r) => r.metric.currency)).toEqual(['EUR']);
      expect(Number(spend.result[0]?.value[1])).toBeGreaterThan(0);
      const projected = await query('max by (currency) (mistral_spend_projected)');
      expect(projected.result.length).toBe(firstUtcDay ? 0 : 1);
    });

    it(`records the reconciliation as the dashboard shows it${firstUtcDay ? ': nothing while spend is under 10 EUR' : ', within 5% for the simulated organization'}`, async () => {
      const panel = dashboardQueries().find((q) => q.panel === 'Computed cost off the reported spend');
      expect(panel, 'the reconciliation stat of mistral-spend.json').toBeDefined();
      const withoutName = (result: PromResult[]) => canonical(result.map((r) => ({ ...r, metric: { ...r.metric, __name__: '' } })));
      // Rules are evaluated every second: the recorded series follows the scrapes within a few.
      let recorded: PromResult[] = [];
      for (let i = 0; i < 10; i++) {
        recorded = (await query(RECONCILIATION_RECORD)).result;
        if (recorded.length > 0 || firstUtcDay) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      const shown = (await query(substitute(panel?.expr ?? ''))).result;
      expect(withoutName(recorded)).toEqual(withoutName(shown));
      // Mid-month, the simulated organization's total_usage holds 0.13 EUR a day outside usage: about -0.1%.
      // In the year's first hour its spend is under the 10 EUR from which the difference is shown.
      expect(recorded.map((r) => [r.metric.job, r.metric.currency])).toEqual(firstUtcDay ? [] : [[JOB, 'EUR']]);
      for (const r of recorded) expect(Math.abs(Number(r.value[1]))).toBeLessThan(0.05);
    });

    it('has no alert pending or firing while the simulated organization is healthy', async () => {
      // The rules activeAlerts() leaves out, evaluated now with time() read on the exporter's clock.
      const onExporterClock: string[] = [];
      for (const alertname of CLOCK_DEPENDENT_ALERTS) {
        const rule = rules.find((r) => r.alert === alertname);
        expect(rule?.expr, alertname).toContain('time()');
        const r = await query((rule?.expr ?? '').replaceAll('time()', String(at / 1000)));
        expect(r.status, r.error).toBe('success');
        for (const x of r.result)
          onExporterClock.push(`${alertKey({ labels: { alertname, ...x.metric }, state: '' })} on the exporter's clock`);
      }
      expect([...(await stack.activeAlerts()), ...onExporterClock]).toEqual([]);
    });

    it("holds the API key alerts, on the exporter's clock, for exactly the keys the simulator says", async () => {
      const now = at / 1000;
      const DAY = 86_400;
      const dayOf = (date: string | null) => (date === null ? undefined : Date.parse(`${date.slice(0, 10)}T00:00:00Z`) / 1000);
      const keys = stack.simulator().truth.apiKeys();
      const expected: Record<string, string[]> = {
        MistralApiKeyExpiringSoon: keys
          .filter((k) => k.expiresSeconds !== null && k.expiresSeconds > now && k.expiresSeconds - now < 14 * DAY)
          .map((k) => k.key_id),
        MistralApiKeyUnused: keys
          .filter((k) => {
            if (k.expiresSeconds !== null && k.expiresSeconds <= now) return false;
            const lastUsed = dayOf(k.last_used);
            const created = k.created_at === null ? undefined : Date.parse(k.created_at) / 1000;
            return lastUsed !== undefined ? now - lastUsed > 90 * DAY : created !== undefined && now - created > 90 * DAY;
          })
          .map((k) => k.key_id),
      };
      expect(expected.MistralApiKeyExpiringSoon?.length).toBeGreaterThan(0);
      for (const alert of KEY_ALERTS) {
        const rule = rules.find((r) => r.alert === alert);
        const r = await query((rule?.expr ?? '').replaceAll('time()', String(now)));
        expect(r.status, r.error).toBe('success');
        expect(r.result.map((x) => x.metric.key_id).sort(), alert).toEqual([...(expected[alert] ?? [])].sort());
      }
    });

    // Changes the simulated organization: keep it the last test of the describe.
    it('sees the alerts go pending once the organization is not healthy (the test above can fail)', async () => {
      const sim = stack.simulator();
      const expected = [
        'MistralAdminApiErrors{api_endpoint="rate_limit"} pending',
        'MistralPaymentFailed pending',
        'MistralSpendLimitNear pending',
        'MistralSpendLimitReached pending',
        // No projection during a month's first day.
        ...(firstUtcDay ? [] : ['MistralSpendProjectedOverLimit{currency="EUR"} pending']),
      ];
      sim.setSpendLimit(1);
      sim.setPaymentFailed(true);
      sim.setFault('rate_limit', { kind: 'status', status: 503 });
      try {
        // A refresh (2s), a scrape and a rule evaluation (1s each), and two error samples for rate().
        let seen: string[] = [];
        for (let i = 0; i < 40 && JSON.stringify(seen) !== JSON.stringify(expected); i++) {
          await new Promise((r) => setTimeout(r, 500));
          seen = await stack.activeAlerts();
        }
        expect(seen).toEqual(expected);
      } finally {
        sim.clearFaults();
        sim.setPaymentFailed(false);
        sim.setSpendLimit(DEFAULT_SPEND_LIMIT);
      }
    });
  });
}
