import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { buildDashboards, renderDashboard } from '../scripts/dashboards.js';
import {
  allPanels,
  ALWAYS_MAY_BE_EMPTY,
  DASHBOARD_DIR,
  dashboardAnnotations,
  dashboardQueries,
  dashboardVariables,
  documentedMetrics,
  EMPTY_ON_FIRST_UTC_DAY,
  emptyPanelsAllowed,
  lintDashboard,
  lintExpr,
  loadDashboards,
  metricSelectors,
  parseEmptyPanels,
} from './support/dashboards.js';
import { hasTool, promtool } from './support/tools.js';

type Json = Record<string, unknown>;

const EXPECTED = {
  'mistral-exporter.json': { uid: 'mistral-exporter', title: 'Mistral: exporter health' },
  'mistral-lechat.json': { uid: 'mistral-lechat', title: 'Mistral: le Chat (Vibe Work) adoption' },
  'mistral-spend.json': { uid: 'mistral-spend', title: 'Mistral: spend and limits' },
  'mistral-vibe-code.json': { uid: 'mistral-vibe-code', title: 'Mistral: Vibe Code' },
  'mistral-api-keys.json': { uid: 'mistral-api-keys', title: 'Mistral: API keys' },
};

const known = documentedMetrics();
const dashboards = loadDashboards();
const F = 'job=~"$job", instance=~"$instance", org=~"$org"';
/** The matchers of the series without an org label (up, build info). */
const F_NO_ORG = 'job=~"$job", instance=~"$instance"';

function copy<T>(value: T): T {
  return structuredClone(value);
}

function panelByTitle(dashboard: Json, title: string): Json {
  const p = allPanels(dashboard).find((x) => x.title === title);
  if (!p) throw new Error(`no panel ${title}`);
  return p;
}

function spend(): Json {
  return copy(dashboards.find((d) => d.file === 'mistral-spend.json')!.dashboard);
}

describe('grafana-dashboards/', () => {
  it('holds the four dashboards, with stable uids and titles', () => {
    expect(Object.fromEntries(dashboards.map(({ file, dashboard }) => [file, { uid: dashboard.uid, title: dashboard.title }]))).toEqual(
      EXPECTED,
    );
  });

  it('is what scripts/dashboards.ts makes (run `npm run generate` after changing it)', () => {
    const built = buildDashboards();
    expect(Object.keys(built).sort()).toEqual(dashboards.map((d) => d.file));
    for (const [file, dashboard] of Object.entries(built)) {
      expect(readFileSync(new URL(file, DASHBOARD_DIR), 'utf8'), file).toBe(renderDashboard(dashboard));
    }
  });

  it("finds docs/metrics.md's metrics (the list the lint checks names against)", () => {
    expect(known.size).toBeGreaterThan(50);
    for (const m of [
      'mistral_spend',
      'mistral_usage_cost',
      'mistral_lechat_agent_messages',
      'mistral_vibe_next_edit_lines',
      'mistral_exporter_api_requests_total',
    ]) {
      expect(known.has(m), m).toBe(true);
    }
  });

  for (const { file, dashboard } of dashboards) {
    it(`${file} follows every rule`, () => {
      expect(lintDashboard(file, dashboard, known)).toEqual([]);
    });
  }

  it('the reconciliation panels compute what the recording rule records, from raw metrics filtered on $job, $instance and $org', () => {
    const rules = parseYaml(readFileSync(new URL('../prometheus/alerts.yml', import.meta.url), 'utf8')) as {
      groups: Array<{ rules: Array<{ record?: string; expr: string }> }>;
    };
    const record = rules.groups
      .flatMap((g) => g.rules)
      .find((r) => r.record === 'job_currency:mistral_usage_cost:relative_difference_to_reported_spend');
    expect(record, 'the recording rule').toBeDefined();
    const flat = (e: string): string => e.replaceAll(`${F}, `, '').replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')').trim();
    const differences = dashboardQueries().filter((q) => q.file === 'mistral-spend.json' && q.expr.includes('>= 10'));
    expect(differences.map((q) => q.panel).sort()).toEqual(['Computed cost off the reported spend', 'Computed cost vs reported spend']);
    for (const q of differences) expect(flat(q.expr), q.panel).toBe(flat(record?.expr ?? ''));
  });

  it('has no uid twice', () => {
    const uids = dashboards.map((d) => d.dashboard.uid);
    expect(new Set(uids).size).toBe(uids.length);
  });

  it('queries only documented metrics, and every dashboard has queries', () => {
    const queries = dashboardQueries();
    for (const file of Object.keys(EXPECTED)) expect(queries.filter((q) => q.file === file).length, file).toBeGreaterThan(10);
    const used = new Set(queries.flatMap((q) => metricSelectors(q.expr).map((r) => r.name)));
    for (const name of used) expect(name === 'up' || known.has(name), name).toBe(true);
  });

  it('lists the variables the end-to-end test resolves: job, instance and org everywhere, window on le Chat and Vibe Code, workspace on spend', () => {
    const vars = dashboardVariables();
    const extra: Record<string, string[]> = {
      'mistral-lechat.json': ['window'],
      'mistral-vibe-code.json': ['window'],
      'mistral-spend.json': ['workspace'],
    };
    for (const file of Object.keys(EXPECTED)) {
      const names = vars.filter((v) => v.file === file).map((v) => v.name);
      expect(names, file).toEqual(['job', 'instance', 'org', ...(extra[file] ?? [])]);
    }
    for (const v of vars) expect(v.query, `${v.file}: ${v.name}`).toMatch(/^label_values\((?:(.+),\s*)?(\w+)\)$/);
  });

  it.each([ALWAYS_MAY_BE_EMPTY, EMPTY_ON_FIRST_UTC_DAY] as const)('README "%s": every panel listed exists, with a reason', (heading) => {
    const entries = parseEmptyPanels(readFileSync(new URL('README.md', DASHBOARD_DIR), 'utf8'), heading);
    expect(entries.length).toBeGreaterThan(0);
    expect(emptyPanelsAllowed(heading).size).toBe(entries.length);
    for (const e of entries) {
      const d = dashboards.find((x) => x.file === e.file);
      expect(d, e.file).toBeDefined();
      expect(
        allPanels(d!.dashboard).some((p) => p.title === e.panel && p.type !== 'row'),
        `${e.file}: ${e.panel}`,
      ).toBe(true);
      expect(e.reason.length).toBeGreaterThan(10);
    }
  });

  it('README: says how to import (UI, provisioning, the sidecar label) and describes the variables', () => {
    const readme = readFileSync(new URL('README.md', DASHBOARD_DIR), 'utf8');
    for (const s of ['## Variables', '## Import', 'provisioning', 'grafana_dashboard: "1"', ...Object.keys(EXPECTED)])
      expect(readme).toContain(s);
  });

  it.runIf(hasTool('promtool'))('every query is valid PromQL (promtool check rules)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dashboards-'));
    try {
      const substitute = (expr: string) =>
        expr
          .replace(/\$__rate_interval|\$\{__rate_interval\}/g, '1m')
          .replace(/\$__range|\$\{__range\}/g, '1h')
          .replace(/\$__interval|\$\{__interval\}/g, '30s')
          .replace(/\$\{?(job|instance|window)\}?/g, '.+')
          .replace(/\$\{?org\}?/g, '.*');
      const rules = [...dashboardQueries(), ...dashboardAnnotations()].map(
        (q, i) => `      - record: dashboard:check_${i}:expr\n        expr: ${JSON.stringify(substitute(q.expr))}\n`,
      );
      const path = join(dir, 'rules.yml');
      writeFileSync(path, `groups:\n  - name: dashboards\n    rules:\n${rules.join('')}`);
      const r = promtool(['check', 'rules', path]);
      expect(r.output).toContain('SUCCESS');
      expect(r.status, r.output).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('several organizations', () => {
  /**
   * Organizations a (two replicas) and b of one exporter, with figures that
   * differ; each panel below must show each organization's own figure, never
   * the two added, divided one by the other or joined across. `org` is All
   * (`.*`), as a dashboard opened on every organization has it.
   */
  const SERIES: Array<[string, number]> = [
    ['mistral_spend{org="a",currency="EUR",product="api"}', 3000],
    ['mistral_spend{org="a",currency="EUR",product="vibe"}', 1250],
    ['mistral_spend{org="b",currency="EUR",product="api"}', 1000],
    ['mistral_spend_limit{org="a",currency="EUR"}', 10000],
    ['mistral_spend_limit{org="b",currency="EUR"}', 3000],
    ['mistral_spend_projected{org="a",currency="EUR"}', 6000],
    ['mistral_spend_projected{org="b",currency="EUR"}', 4500],
    ['mistral_usage_tokens{org="a",category="completion",model="m",token_type="input"}', 17e9],
    ['mistral_usage_tokens{org="b",category="completion",model="m",token_type="input"}', 1e9],
    ['mistral_rate_limit_tokens_per_month{org="a",model="m"}', 20e9],
    ['mistral_rate_limit_tokens_per_month{org="b",model="m"}', 100e9],
    ['mistral_usage_cost{org="a",category="completion",model="m",billing_group="input",currency="EUR"}', 500],
    ['mistral_usage_cost{org="b",category="completion",model="m",billing_group="input",currency="EUR"}', 1000],
    ['mistral_spend_reported{org="a",currency="EUR",field="total_usage"}', 1000],
    ['mistral_spend_reported{org="b",currency="EUR",field="total_usage"}', 1000],
    ['mistral_seats{org="a",product="chat",plan="team"}', 50],
    ['mistral_seats{org="b",product="chat",plan="team"}', 20],
    ['mistral_seats_idle{org="a",product="chat"}', 5],
    ['mistral_seats_idle{org="b",product="chat"}', 4],
    ['mistral_lechat_messages{org="a",window="7d"}', 100],
    ['mistral_lechat_messages{org="b",window="7d"}', 60],
    ['mistral_lechat_active_users{org="a",window="7d"}', 10],
    ['mistral_lechat_active_users{org="b",window="7d"}', 3],
    ['mistral_api_keys{org="a",product="api",workspace_id="ws-1"}', 2],
    ['mistral_api_keys{org="b",product="api",workspace_id="ws-1"}', 3],
    // time() is 300 at the evaluation: a's key expires in 10 days, b's in 30
    ['mistral_api_key_expiry_timestamp_seconds{org="a",key_id="k-1",key_name="k",product="api",workspace_id="ws-1"}', 864000],
    ['mistral_api_key_expiry_timestamp_seconds{org="b",key_id="k-1",key_name="k",product="api",workspace_id="ws-1"}', 2592000],
  ];
  const CASES: Array<{ file: string; panel: string; samples: Array<[string, number]> }> = [
    {
      file: 'mistral-spend.json',
      panel: 'Spend this month',
      samples: [
        ['{org="a",currency="EUR"}', 4250],
        ['{org="b",currency="EUR"}', 1000],
      ],
    },
    {
      file: 'mistral-spend.json',
      panel: 'Projected spend vs limit',
      samples: [
        ['{org="a",currency="EUR"}', 0.6],
        ['{org="b",currency="EUR"}', 1.5],
      ],
    },
    {
      file: 'mistral-spend.json',
      panel: 'Monthly token limit used, per model',
      samples: [
        ['{org="a",model="m"}', 0.85],
        ['{org="b",model="m"}', 0.01],
      ],
    },
    {
      file: 'mistral-spend.json',
      panel: 'Computed cost off the reported spend',
      samples: [
        ['{job="j",org="a",currency="EUR"}', -0.5],
        ['{job="j",org="b",currency="EUR"}', 0],
      ],
    },
    {
      file: 'mistral-lechat.json',
      panel: 'Share of le Chat seats idle',
      samples: [
        ['{org="a"}', 0.1],
        ['{org="b"}', 0.2],
      ],
    },
    {
      file: 'mistral-lechat.json',
      panel: 'Messages per active user',
      samples: [
        ['{org="a"}', 10],
        ['{org="b"}', 20],
      ],
    },
    {
      file: 'mistral-api-keys.json',
      panel: 'API keys',
      samples: [
        ['{org="a"}', 2],
        ['{org="b"}', 3],
      ],
    },
    {
      file: 'mistral-api-keys.json',
      panel: 'Expiring within 14 days',
      samples: [
        ['{org="a"}', 1],
        ['{org="b"}', 0],
      ],
    },
  ];

  it.runIf(hasTool('promtool'))('each panel shows each organization its own figure (promtool, organizations a and b)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dashboards-orgs-'));
    try {
      const substitute = (expr: string) =>
        expr
          .replace(/\$__rate_interval|\$\{__rate_interval\}/g, '1m')
          .replace(/\$\{?(job|instance)\}?/g, '.+')
          .replace(/\$\{?org\}?/g, '.*')
          .replace(/\$\{?window\}?/g, '7d');
      // a's figures from two replicas, b's from one
      const input = SERIES.flatMap(([series, value]) =>
        (series.includes('org="a"') ? ['a', 'b'] : ['a']).map((instance) => {
          const labelled = series.replace('{', `{job="j",instance="${instance}",`);
          return `      - series: '${labelled}'\n        values: '${value}x10'\n`;
        }),
      ).join('');
      const queries = CASES.map((c) => {
        const q = dashboardQueries().find((x) => x.file === c.file && x.panel === c.panel);
        expect(q, `${c.file}: ${c.panel}`).toBeDefined();
        const samples = c.samples.map(([labels, value]) => `          - labels: '${labels}'\n            value: ${value}\n`).join('');
        return `      - expr: ${JSON.stringify(substitute(q?.expr ?? ''))}\n        eval_time: 5m\n        exp_samples:\n${samples}`;
      });
      const path = join(dir, 'orgs.test.yml');
      writeFileSync(
        path,
        `rule_files: []\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n${input}    promql_expr_test:\n${queries.join('')}`,
      );
      const r = promtool(['test', 'rules', path]);
      expect(r.status, r.output).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the dashboard lint catches', () => {
  const ok = (expr: string) => expect(lintExpr(expr, known)).toEqual([]);
  const bad = (expr: string, problem: RegExp) => {
    const problems = lintExpr(expr, known);
    expect(
      problems.some((p) => problem.test(p)),
      `${expr}\n${problems.join('\n')}`,
    ).toBe(true);
  };

  it('accepts the shapes the dashboards use', () => {
    ok(`sum by (org, currency) (max without (instance, pod) (mistral_spend{${F}}))`);
    ok(`sum by (org, instance, code) (rate(mistral_exporter_api_requests_total{${F}}[$__rate_interval]))`);
    ok(`sum by (org, instance) (increase(mistral_exporter_parse_errors_total{${F}}[$__range]))`);
    ok(`max by (org, metric) (mistral_exporter_series_dropped{${F}, metric=~"mistral_lechat_agent_.*"})`);
    ok(`up{${F_NO_ORG}}`);
    ok(`mistral_exporter_build_info{${F_NO_ORG}}`);
    ok(`topk by (org) (10, max by (org, tool) (mistral_vibe_tool_calls_by_tool{${F}, window=~"$window"}))`);
    ok(
      `max without (instance, pod) (mistral_seats_idle{${F}}) / on (org) sum by (org) (max without (instance, pod) (mistral_seats{${F}}))`,
    );
  });

  it('organizations mixed: a selector without $org (or up with it), a by or on without org, an aggregation of everything', () => {
    bad(`max without (instance, pod) (mistral_spend_limit{${F_NO_ORG}})`, /does not match org=~"\$org"/);
    bad(`up{${F}}`, /up has no org label/);
    bad(`sum by (currency) (max without (instance, pod) (mistral_spend{${F}}))`, /by \(currency\) mixes organizations/);
    bad(
      `max without (instance, pod) (mistral_spend_projected{${F}}) / on (currency) max without (instance, pod) (mistral_spend_limit{${F}})`,
      /on \(currency\) mixes organizations/,
    );
    bad(`mistral_seats_idle{${F}} / on () sum by (org) (mistral_seats{${F}})`, /on \(\) mixes organizations/);
    bad(
      `sum(max without (instance, pod) (mistral_api_keys{${F}}))`,
      /sum\(\.\.\.\) without by \(org, \.\.\.\) aggregates every organization/,
    );
    bad(`topk(10, max by (org, tool) (mistral_vibe_tool_calls_by_tool{${F}}))`, /topk\(\.\.\.\) without by/);
  });

  it('a selector without $instance or $job, or without braces', () => {
    bad('mistral_spend{job=~"$job"}', /instance=~"\$instance"/);
    bad('mistral_spend{instance=~"$instance"}', /job=~"\$job"/);
    bad('max(mistral_spend)', /has no \{job/);
    bad(`max(mistral_spend{${F}}) / mistral_spend_limit{job="x", instance=~"$instance"}`, /mistral_spend_limit.*job=~/);
    bad(`{__name__="mistral_spend", ${F}}`, /without a metric name/);
  });

  it('an undocumented metric', () => {
    bad(`max(mistral_spend_total_eur{${F}})`, /not a metric of docs\/metrics\.md/);
    bad(`process_resident_memory_bytes{${F}}`, /not a metric of docs\/metrics\.md/);
  });

  it('a counter outside rate/increase, or over a fixed or wrong range', () => {
    bad(`sum by (instance) (mistral_exporter_api_requests_total{${F}})`, /counter/);
    bad(`sum by (instance) (delta(mistral_exporter_api_requests_total{${F}}[$__range]))`, /counter/);
    bad(`sum by (instance) (rate(mistral_exporter_api_requests_total{${F}}[5m]))`, /ranges must be/);
    bad(`sum by (instance) (rate(mistral_exporter_api_requests_total{${F}}[$__range]))`, /must use \$__rate_interval/);
    bad(`max_over_time(mistral_spend{${F}}[1h:5m])`, /ranges must be|subqueries/);
  });

  it('a sum over replicas', () => {
    bad(`sum(mistral_spend{${F}})`, /adds replicas up/);
    bad(`sum by (currency) (mistral_spend{${F}})`, /adds replicas up/);
    bad(`sum without (instance) (mistral_spend{${F}})`, /adds replicas up/);
    bad(`count(mistral_lechat_agent_messages{${F}})`, /adds replicas up/);
    bad(`sum(mistral_spend{${F}}) by (currency)`, /adds replicas up/);
  });

  it('brackets that do not close', () => {
    bad(`max(mistral_spend{${F}}`, /unbalanced/);
  });

  it('a dashboard without the datasource variable, or with two', () => {
    const d = spend();
    const list = (d.templating as { list: Json[] }).list;
    list.push({ ...list[0], name: 'ds2' });
    expect(lintDashboard('x.json', d, known).join('\n')).toMatch(/exactly one datasource variable/);
    (d.templating as { list: Json[] }).list = list.filter((v) => v.type !== 'datasource');
    expect(lintDashboard('x.json', d, known).join('\n')).toMatch(/exactly one datasource variable, has 0/);
  });

  it('an org variable not as required: All by default, .* for All (series without the label), multi-valued', () => {
    const d = spend();
    const org = (d.templating as { list: Json[] }).list.find((v) => v.name === 'org')!;
    org.allValue = '.+';
    org.current = {};
    org.multi = false;
    const problems = lintDashboard('x.json', d, known).join('\n');
    expect(problems).toMatch(/variable org allValue must be \.\*/);
    expect(problems).toMatch(/variable org must be All by default/);
    expect(problems).toMatch(/variable org must be multi-valued/);
    (d.templating as { list: Json[] }).list = (d.templating as { list: Json[] }).list.filter((v) => v.name !== 'org');
    expect(lintDashboard('x.json', d, known).join('\n')).toMatch(/no "org" variable/);
  });

  it('a legend that does not name the organization, on a query of organizations', () => {
    const d = spend();
    ((panelByTitle(d, 'Spend this month').targets as Json[])[0] as Json).legendFormat = '{{currency}}';
    expect(lintDashboard('x.json', d, known).join('\n')).toMatch(/"Spend this month" target A: the legend must name the organization/);
  });

  it('job and instance variables not as required', () => {
    const d = spend();
    const list = (d.templating as { list: Json[] }).list;
    const instance = list.find((v) => v.name === 'instance')!;
    instance.refresh = 1;
    instance.multi = false;
    const job = list.find((v) => v.name === 'job')!;
    job.query = 'label_values(up, job)';
    const problems = lintDashboard('x.json', d, known).join('\n');
    expect(problems).toMatch(/variable instance must refresh on time range change/);
    expect(problems).toMatch(/variable instance must be multi-valued/);
    expect(problems).toMatch(/variable job query must be label_values\(mistral_up, job\)/);
  });

  it('a panel nested in a collapsed row without description or unit, or with its own datasource', () => {
    const d = copy(dashboards.find((x) => x.file === 'mistral-lechat.json')!.dashboard);
    const nested = allPanels(d).find((p) => p.title === 'Most active users')!;
    delete nested.description;
    (nested.fieldConfig as { defaults: Json }).defaults.unit = '';
    nested.datasource = { type: 'prometheus', uid: 'P1809F7CD0C75ACF3' };
    const problems = lintDashboard('x.json', d, known).join('\n');
    expect(problems).toMatch(/"Most active users" has no description/);
    expect(problems).toMatch(/"Most active users" has no valid unit/);
    expect(problems).toMatch(/"Most active users" must use datasource/);
  });

  it('a target with a query that breaks a rule, or an unknown variable', () => {
    const d = spend();
    const target = (panelByTitle(d, 'Request rate limit').targets as Json[])[0]!;
    target.expr = `sum by (org) (mistral_rate_limit_requests_per_second{${F}, x=~"$nosuch"})`;
    const problems = lintDashboard('x.json', d, known).join('\n');
    expect(problems).toMatch(/"Request rate limit": sum by \(org\) adds replicas up/);
    expect(problems).toMatch(/uses \$nosuch/);
  });

  it('money in a fixed currency, without its currency label, or without 2 decimals', () => {
    const d = spend();
    const p = panelByTitle(d, 'Spend this month');
    (p.fieldConfig as { defaults: Json }).defaults.unit = 'currencyEUR';
    const p2 = panelByTitle(d, 'Spend by product');
    ((p2.targets as Json[])[0] as Json).legendFormat = '{{product}}';
    delete (p2.fieldConfig as { defaults: Json }).defaults.decimals;
    const problems = lintDashboard('x.json', d, known).join('\n');
    expect(problems).toMatch(/"Spend this month".*fixed currency unit/);
    expect(problems).toMatch(/"Spend by product" target A: money must show its currency/);
    expect(problems).toMatch(/"Spend by product": amounts of money have 2 decimals/);
  });

  it('timestamps shown as dates without * 1000', () => {
    const d = spend();
    const t = (panelByTitle(d, 'Billing period start').targets as Json[])[0]!;
    t.expr = String(t.expr).replace(' * 1000', '');
    expect(lintDashboard('x.json', d, known).join('\n')).toMatch(/takes milliseconds/);
  });

  it('duplicate panel ids, overlapping or out-of-grid panels, an editable dashboard', () => {
    const d = spend();
    const panels = d.panels as Json[];
    (panels[2] as Json).id = (panels[1] as Json).id;
    (panels[3] as Json).gridPos = { ...((panels[2] as Json).gridPos as Json) };
    (panels[4] as Json).gridPos = { x: 20, y: 0, w: 8, h: 4 };
    d.editable = true;
    const problems = lintDashboard('x.json', d, known).join('\n');
    expect(problems).toMatch(/duplicate panel ids/);
    expect(problems).toMatch(/overlap/);
    expect(problems).toMatch(/out of the 24-column grid/);
    expect(problems).toMatch(/editable: false/);
  });

  it('a README bullet under "Panels that may be empty" in the wrong shape', () => {
    expect(() => parseEmptyPanels('## Panels that may be empty\n\n- mistral-spend.json Projected spend (no reason)\n')).toThrow(
      /cannot read/,
    );
    expect(
      parseEmptyPanels('## Panels that may be empty\n\n- `a.json`: Some panel — a reason.\n\n## Next\n\n- `b.json`: Other — not read.\n'),
    ).toEqual([{ file: 'a.json', panel: 'Some panel', reason: 'a reason.' }]);
  });
});

describe('annotation queries', () => {
  it('the spend dashboard repeats a row per workspace: its cost, projection and limit, named from mistral_workspace_info', () => {
    const spend = JSON.parse(readFileSync(new URL('mistral-spend.json', DASHBOARD_DIR), 'utf8')) as {
      panels: Array<{ type: string; title: string; repeat?: string; targets?: Array<{ expr: string }> }>;
    };
    const start = spend.panels.findIndex((p) => p.type === 'row' && p.repeat === 'workspace');
    expect(start).toBeGreaterThan(0);
    const next = spend.panels.findIndex((p, i) => i > start && p.type === 'row');
    const panels = spend.panels.slice(start + 1, next === -1 ? undefined : next);
    expect(panels.map((p) => p.title)).toEqual([
      'Workspace limit utilisation',
      'Workspace cost, projection and limit',
      'Workspace cost over time',
    ]);
    const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    for (const e of exprs) expect(e).toContain('workspace_id=~"$workspace"');
    for (const e of exprs) expect(e).toContain('group_left (workspace_name)');
    for (const m of [
      'mistral_workspace_spend_limit_utilization_ratio',
      'mistral_workspace_spend_projected',
      'mistral_workspace_spend_limit{',
      'mistral_usage_cost',
    ]) {
      expect(
        exprs.some((e) => e.includes(m)),
        m,
      ).toBe(true);
    }
  });

  it('the spend dashboard marks spend limit changes and key rotations, from the audit log', () => {
    const annotations = dashboardAnnotations().filter((a) => a.file === 'mistral-spend.json');
    expect(annotations.map((a) => a.name)).toEqual(['Spend limit changed', 'API key created, rotated or deleted']);
    expect(annotations[0]?.expr).toContain('billing.monthly_limit.updated');
    expect(annotations[1]?.expr).toContain('api_key.rotate');
  });

  it('follow the rules of panel queries', () => {
    const d = spend();
    const list = (d.annotations as { list: Json[] }).list;
    const annotation = list.find((a) => a.name === 'Spend limit changed') as Json;
    annotation.expr = 'changes(mistral_audit_event_last_timestamp_seconds{event_type="x"}[5m]) > 0';
    annotation.datasource = { type: 'prometheus', uid: 'prom' };
    const problems = lintDashboard('x.json', d, known).join('\n');
    expect(problems).toMatch(/annotation "Spend limit changed" must use datasource/);
    expect(problems).toMatch(/annotation "Spend limit changed": .* does not match job=~"\$job"/);
    expect(problems).toMatch(/annotation "Spend limit changed": .*ranges must be/);
  });

  it.runIf(hasTool('promtool'))(
    'mark a change of the newest instant, and the first event of a type since the exporter started, once',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'annotations-'));
      try {
        const [limits, keys] = dashboardAnnotations()
          .filter((a) => a.file === 'mistral-spend.json')
          .map((a) =>
            a.expr
              .replace(/\$__rate_interval/g, '2m')
              .replace(/\$\{?(job|instance)\}?/g, '.+')
              .replace(/\$\{?org\}?/g, '.*'),
          );
        const series = (instance: string, type: string, values: string) =>
          `      - series: 'mistral_audit_event_last_timestamp_seconds{job="j",instance="${instance}",event_type="${type}"}'\n        values: '${values}'\n`;
        const at = (minutes: number, expr: string | undefined, samples: string) =>
          `      - expr: ${JSON.stringify(expr)}\n        eval_time: ${minutes}m\n        exp_samples: ${samples}\n`;
        // Two replicas. A key rotated again at 5m; the first limit change since the start at 5m; a member added (not marked) at 5m.
        const input = ['a', 'b']
          .map(
            (i) =>
              series(i, 'api_key.rotate', '100x4 200x5') +
              series(i, 'billing.monthly_limit.updated', '_x4 300x5') +
              series(i, 'workspace.member.add', '100x4 400x5'),
          )
          .join('');
        const tests =
          'rule_files: []\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n' +
          input +
          '    promql_expr_test:\n' +
          at(3, keys, '[]') +
          at(5, keys, `\n          - labels: '{event_type="api_key.rotate"}'\n            value: 1`) +
          at(5, limits, `\n          - labels: '{event_type="billing.monthly_limit.updated"}'\n            value: 300`) +
          at(9, keys, '[]') +
          at(9, limits, '[]');
        const path = join(dir, 'annotations.test.yml');
        writeFileSync(path, tests);
        const r = promtool(['test', 'rules', path]);
        expect(r.status, r.output).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
