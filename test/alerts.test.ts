import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { hasTool, promtool } from './support/tools.js';

const RULES = fileURLToPath(new URL('../prometheus/alerts.yml', import.meta.url));
const RULE_TESTS = fileURLToPath(new URL('../prometheus/alerts.test.yml', import.meta.url));
const RUNBOOKS = fileURLToPath(new URL('../docs/runbooks.md', import.meta.url));
const METRICS_DOC = fileURLToPath(new URL('../docs/metrics.md', import.meta.url));

/** The alerts of the catalog (docs: "Alerts that ship with it"): their names are a contract. */
const CATALOG = [
  'MistralSpendLimitNear',
  'MistralSpendLimitReached',
  'MistralSpendProjectedOverLimit',
  'MistralWorkspaceSpendLimitNear',
  'MistralWorkspaceSpendLimitReached',
  'MistralTokenLimitNear',
  'MistralPaymentFailed',
  'MistralSpendDataMissing',
  'MistralExporterDown',
  'MistralExporterStale',
  'MistralAnalyticsDataLate',
  'MistralAdminApiErrors',
  'MistralComputedCostDrift',
  'MistralAuditLogBehind',
  'MistralApiKeyExpiringSoon',
  'MistralApiKeyUnused',
] as const;

/** The recording rules (docs/metrics.md, "Recording rules"): their names are a contract too. */
const RECORDS = ['job_currency:mistral_usage_cost:relative_difference_to_reported_spend'] as const;

/** The groups of alerts.yml: the alerts on the exporter's figures, then reconciliation (its recording rule and the alert on it). */
const GROUPS = ['mistral-admin-exporter', 'mistral-admin-exporter-reconciliation'];

const SEVERITIES = ['critical', 'warning', 'info'];
const RUNBOOK_BASE = 'https://github.com/mistral-admin-exporter/mistral-admin-exporter/blob/main/docs/runbooks.md';
/** The job the rules assume (documented in the runbooks and in alerts.yml). */
const JOB = 'mistral-admin-exporter';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}
interface ExpAlert {
  exp_labels?: Record<string, string>;
  exp_annotations?: Record<string, string>;
}
interface UnitTest {
  name?: string;
  interval?: string;
  input_series?: { series: string; values: string }[];
  alert_rule_test?: { eval_time: string; alertname: string; exp_alerts?: ExpAlert[] | null }[];
  promql_expr_test?: { expr: string; eval_time: string; exp_samples?: { labels: string; value: number }[] | null }[];
}
interface TestFile {
  rule_files: string[];
  tests: UnitTest[];
}

const ruleFile = parse(readFileSync(RULES, 'utf8')) as RuleFile;
const testFile = parse(readFileSync(RULE_TESTS, 'utf8')) as TestFile;
const runbooks = readFileSync(RUNBOOKS, 'utf8');
const alerts = ruleFile.groups.flatMap((g) => g.rules).filter((r): r is Rule & { alert: string } => r.alert !== undefined);
const records = ruleFile.groups.flatMap((g) => g.rules).filter((r): r is Rule & { record: string } => r.record !== undefined);

// ---------------------------------------------------------------- helpers

/** Index of the parenthesis closing the one at `open`, skipping quoted strings. */
function closingParen(expr: string, open: number): number {
  let depth = 0;
  for (let i = open; i < expr.length; i++) {
    const c = expr[i];
    if (c === '"' || c === "'" || c === '`') {
      const end = expr.indexOf(c, i + 1);
      if (end < 0) return -1;
      i = end;
    } else if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** `max without (instance, pod, ...) (` or `max by (...) (`: the aggregation clause is checked by `collapsesReplicas`. */
const MAX_CLAUSE = /\bmax\s+(by|without)\s*\(([^)]*)\)\s*\(/g;

/** Whether a `max` clause collapses replicas: `without` names instance and pod, `by` names neither. */
function collapsesReplicas(modifier: string, labelList: string): boolean {
  const labels = labelList.split(',').map((l) => l.trim());
  return modifier === 'without'
    ? labels.includes('instance') && labels.includes('pod')
    : !labels.includes('instance') && !labels.includes('pod');
}

/** The bodies (start, end of the argument's parentheses) of every `max` that collapses replicas. */
function replicaMaxBodies(expr: string): { start: number; end: number }[] {
  const bodies: { start: number; end: number }[] = [];
  for (const m of expr.matchAll(MAX_CLAUSE)) {
    if (!collapsesReplicas(m[1] as string, m[2] as string)) continue;
    const start = (m.index ?? 0) + m[0].length - 1;
    bodies.push({ start, end: closingParen(expr, start) });
  }
  return bodies;
}

/**
 * A heuristic for "two replicas do not double a figure": every `sum` must
 * either add up series already collapsed over replicas (its whole argument is
 * one `max without (instance, pod) (...)` or `max by (...) (...)`), or keep
 * `instance` and `pod` apart (`sum without (...)` not naming them) inside such
 * a `max`. Returns what it finds wrong; empty when all is well.
 */
function replicaProblems(expr: string): string[] {
  const problems: string[] = [];
  const bodies = replicaMaxBodies(expr);
  for (const m of expr.matchAll(/\bsum\b\s*(?:(by|without)\s*\(([^)]*)\))?\s*\(/g)) {
    const at = m.index ?? 0;
    const open = at + m[0].length - 1;
    const close = closingParen(expr, open);
    if (close < 0) {
      problems.push(`unbalanced parentheses after the sum at ${at}`);
      continue;
    }
    let modifier = m[1];
    let labelList = m[2];
    // `sum (...) by (...)`: the clause after the argument.
    const trailing = /^\s*(by|without)\s*\(([^)]*)\)/.exec(expr.slice(close + 1));
    if (modifier === undefined && trailing) {
      modifier = trailing[1];
      labelList = trailing[2];
    }
    const labels = (labelList ?? '')
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean);
    const arg = expr.slice(open + 1, close);
    // The whole argument is one max collapsing replicas.
    const lead = /^\s*max\s+(by|without)\s*\(([^)]*)\)\s*\(/.exec(arg);
    if (
      lead &&
      collapsesReplicas(lead[1] as string, lead[2] as string) &&
      closingParen(arg, lead[0].length - 1) === arg.trimEnd().length - 1
    ) {
      continue;
    }
    const keepsReplicasApart = modifier === 'without' && !labels.includes('instance') && !labels.includes('pod');
    if (keepsReplicasApart && bodies.some((b) => b.start < at && at < b.end)) continue;
    problems.push(`\`${expr.slice(at, close + 1).replace(/\s+/g, ' ')}\` adds replicas up: take the max over instance and pod first`);
  }
  return problems;
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Markdown headings (level, text), code blocks left out. */
function headings(markdown: string): { level: number; text: string }[] {
  const withoutCode = markdown.replace(/^ *```[\s\S]*?^ *```/gm, '');
  return [...withoutCode.matchAll(/^(#{1,6})\s+(.+?)\s*#*\s*$/gm)].map((m) => ({
    level: (m[1] as string).length,
    text: m[2] as string,
  }));
}

/** Prometheus duration (e.g. 1h30m) in seconds. */
function seconds(duration: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  const parts = [...duration.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== duration) throw new Error(`not a duration: ${duration}`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * (units[p[2] as string] as number), 0);
}

function seriesLabels(series: string): { name: string; labels: Record<string, string> } {
  const name = (/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(series) ?? [''])[0];
  const labels: Record<string, string> = {};
  for (const m of series.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"([^"]*)"/g)) labels[m[1] as string] = m[2] as string;
  return { name, labels };
}

/** Whether the same series (all labels but instance and pod) is given by two instances. */
function hasTwoReplicas(test: UnitTest): boolean {
  const instances = new Map<string, Set<string>>();
  for (const s of test.input_series ?? []) {
    const { name, labels } = seriesLabels(s.series);
    const { instance, pod: _pod, ...rest } = labels;
    if (instance === undefined) continue;
    const key = `${name}${JSON.stringify(Object.entries(rest).sort())}`;
    instances.set(key, (instances.get(key) ?? new Set()).add(instance));
  }
  return [...instances.values()].some((set) => set.size >= 2);
}

function casesOf(alertname: string): { test: UnitTest; expAlerts: ExpAlert[] }[] {
  return testFile.tests.flatMap((test) =>
    (test.alert_rule_test ?? []).filter((c) => c.alertname === alertname).map((c) => ({ test, expAlerts: c.exp_alerts ?? [] })),
  );
}

// ---------------------------------------------------------------- promtool

describe('promtool', () => {
  it.runIf(hasTool('promtool'))('`promtool check rules prometheus/alerts.yml` finds every rule and no error', () => {
    const result = promtool(['check', 'rules', RULES]);
    expect(result.output).toContain(`SUCCESS: ${CATALOG.length + RECORDS.length} rules found`);
    expect(result.output.replaceAll(RULES, '<rules>')).not.toMatch(/FAILED|error|warning/i);
    expect(result.status).toBe(0);
  });

  it.runIf(hasTool('promtool'))(
    '`promtool test rules prometheus/alerts.test.yml` passes',
    () => {
      const result = promtool(['test', 'rules', RULE_TESTS]);
      expect(result.output).toContain('SUCCESS');
      expect(result.output).not.toContain('FAILED');
      expect(result.status).toBe(0);
      // Days of rule evaluations (the reconciliation waits for a month's second day): some 20 s of CPU, more on a busy machine.
    },
    120_000,
  );
});

// ---------------------------------------------------------------- the rules

describe('prometheus/alerts.yml', () => {
  it('is the groups it should be, the first of alerts only', () => {
    expect(ruleFile.groups.map((g) => g.name)).toEqual(GROUPS);
    expect(ruleFile.groups[0]?.rules.filter((r) => r.alert === undefined)).toEqual([]);
  });

  it('has every recording rule of the catalog, and no other, each named level:metric:operations after a documented metric', () => {
    const names = records.map((r) => r.record);
    expect(new Set(names).size, 'a recording rule is defined twice').toBe(names.length);
    expect([...names].sort()).toEqual([...RECORDS].sort());
    const documented = readFileSync(METRICS_DOC, 'utf8');
    for (const name of names) {
      const m = /^([a-z_]+):([a-z_]+):([a-z0-9_]+)$/.exec(name);
      expect(m, `${name} is not level:metric:operations`).not.toBeNull();
      // The level is the labels the rule keeps (joined with _), the metric one the exporter serves.
      expect(documented.includes(`| \`${m?.[2]}\` |`), `${name}: ${m?.[2]} is not a metric of docs/metrics.md`).toBe(true);
      expect(documented.includes(`| \`${name}\` |`), `${name} is not in docs/metrics.md's recording rules`).toBe(true);
    }
    // The expressions docs/metrics.md shows are the rules' own.
    const flat = (text: string): string => text.replace(/\s+/g, ' ').trim();
    for (const r of records) {
      expect(flat(documented).includes(flat(r.expr)), `docs/metrics.md does not show ${r.record}'s expression as it is`).toBe(true);
    }
  });

  it('an alert reading a recorded series is in its group, after it (evaluated in order: it sees the fresh value)', () => {
    for (const group of ruleFile.groups) {
      group.rules.forEach((rule, i) => {
        for (const r of records) {
          if (rule.alert === undefined || !rule.expr.includes(r.record)) continue;
          const at = group.rules.findIndex((x) => x.record === r.record);
          expect(at, `${rule.alert} reads ${r.record}, which is not recorded before it in group ${group.name}`).toBeGreaterThanOrEqual(0);
          expect(at).toBeLessThan(i);
        }
      });
    }
  });

  it('has every alert of the catalog, and no other', () => {
    const names = alerts.map((a) => a.alert);
    expect(new Set(names).size, 'an alert is defined twice').toBe(names.length);
    expect([...names].sort()).toEqual([...CATALOG].sort());
  });

  it.each(CATALOG)('%s has a severity, a summary, a description, a runbook_url and a `for`', (name) => {
    const rule = alerts.find((a) => a.alert === name);
    expect(rule, `${name} is missing`).toBeDefined();
    if (!rule) return;
    expect(SEVERITIES).toContain(rule.labels?.severity);
    expect(rule.annotations?.summary?.trim()).toBeTruthy();
    expect(rule.annotations?.description?.trim()).toBeTruthy();
    expect(rule.annotations?.runbook_url).toBe(`${RUNBOOK_BASE}#${name.toLowerCase()}`);
    // Long enough to ride out a failed scrape or refresh.
    expect(rule.for, `${name} has no \`for\``).toBeDefined();
    expect(seconds(rule.for ?? '0s')).toBeGreaterThanOrEqual(300);
  });

  it('the limit alerts have the severities of the catalog', () => {
    const severity = (n: string): string | undefined => alerts.find((a) => a.alert === n)?.labels?.severity;
    expect(severity('MistralSpendLimitNear')).toBe('warning');
    expect(severity('MistralSpendLimitReached')).toBe('critical');
    expect(severity('MistralSpendProjectedOverLimit')).toBe('warning');
    expect(severity('MistralWorkspaceSpendLimitNear')).toBe('warning');
    expect(severity('MistralWorkspaceSpendLimitReached')).toBe('critical');
    expect(seconds(alerts.find((a) => a.alert === 'MistralSpendProjectedOverLimit')?.for ?? '0s')).toBeGreaterThanOrEqual(3600);
  });

  it('money in a description is printed with its currency', () => {
    const withMoney = alerts.filter((a) => (a.annotations?.description ?? '').includes('printf "%.2f"'));
    expect(withMoney.length).toBeGreaterThanOrEqual(3);
    for (const a of withMoney) expect(a.annotations?.description, a.alert).toMatch(/currency/);
  });

  it('every runbook_url anchor is a heading of docs/runbooks.md, one section per alert', () => {
    const anchors = new Set(headings(runbooks).map((h) => githubAnchor(h.text)));
    for (const a of alerts) {
      const anchor = (a.annotations?.runbook_url ?? '').split('#')[1] ?? '';
      expect(anchors.has(anchor), `${a.alert}: no heading with anchor #${anchor} in docs/runbooks.md`).toBe(true);
    }
    const sections = headings(runbooks)
      .filter((h) => h.level === 2)
      .map((h) => h.text);
    expect([...sections].sort()).toEqual([...CATALOG].sort());
  });

  it('documents the job it assumes, and MistralExporterDown uses it', () => {
    const down = alerts.find((a) => a.alert === 'MistralExporterDown');
    expect(down?.expr).toContain(`job="${JOB}"`);
    expect(runbooks).toContain(`job="${JOB}"`);
    expect(readFileSync(RULES, 'utf8')).toContain(`job="${JOB}"`);
  });

  describe('two replicas scraped at once neither double a figure nor fire twice', () => {
    it('the heuristic catches sums over replicas', () => {
      expect(replicaProblems('sum(mistral_spend)')).toHaveLength(1);
      expect(replicaProblems('sum by (model) (mistral_usage_tokens) / on (model) mistral_rate_limit_tokens_per_month')).toHaveLength(1);
      expect(replicaProblems('sum without (instance, pod) (mistral_spend) > 10')).toHaveLength(1);
      expect(replicaProblems('sum(mistral_spend) by (currency)')).toHaveLength(1);
      // a max that covers only part of the argument does not count
      expect(replicaProblems('sum by (model) (max without (instance, pod) (a) + b)')).toHaveLength(1);
      // a sum keeping instances apart, but outside any max
      expect(replicaProblems('sum without (code) (rate(x[5m])) > 0.1')).toHaveLength(1);
      // sound ones
      expect(replicaProblems('sum by (model) (max without (instance, pod) (mistral_usage_tokens))')).toEqual([]);
      expect(
        replicaProblems('max without (instance, pod) (sum without (code) (rate(x{code!~"2.."}[5m])) / sum without (code) (rate(x[5m])))'),
      ).toEqual([]);
      expect(replicaProblems('max without (instance, pod) (mistral_spend) > 1')).toEqual([]);
      expect(replicaProblems('sum by (model) (max by (model, instance) (mistral_usage_tokens))')).toHaveLength(1);
      expect(replicaProblems('sum by (model) (max without (pod) (mistral_usage_tokens))')).toHaveLength(1);
      expect(replicaMaxBodies('max without (instance, pod, api_endpoint) (mistral_up)')).toHaveLength(1);
      expect(replicaMaxBodies('max by (instance) (mistral_up)')).toHaveLength(0);
    });

    const exprOf = (name: string): string => (alerts.find((a) => a.alert === name) ?? records.find((r) => r.record === name))?.expr ?? '';

    it.each([...CATALOG, ...RECORDS])('%s: no sum adds replicas up', (name) => {
      expect(replicaProblems(exprOf(name))).toEqual([]);
    });

    it.each([...CATALOG, ...RECORDS])(
      '%s: takes the max over instance and pod (or is absent() of the scrape job, or reads recorded series)',
      (name) => {
        const expr = exprOf(name);
        const collapses = replicaMaxBodies(expr).length > 0;
        const absentOfJob = /^\s*absent\(\s*up\{[^}]*job=/.test(expr);
        // A recorded series is one per job already: its own rule is checked here too.
        const readsRecorded = RECORDS.some((r) => expr.includes(r));
        expect(collapses || absentOfJob || readsRecorded, expr).toBe(true);
        // Every metric the expression reads is inside such a max, unless it is absent() of `up`.
        if (!absentOfJob) {
          const bodies = replicaMaxBodies(expr);
          const metrics = [...expr.matchAll(/(?<![:\w])(mistral_[a-z_]+|up)\b(?=\s*[{[)\s])/g)];
          expect(metrics.length > 0 || readsRecorded, `${name}: reads no metric the check recognises`).toBe(true);
          for (const m of metrics) {
            const at = m.index ?? 0;
            expect(
              bodies.some((b) => b.start < at && at < b.end),
              `${name}: ${m[1]} is read outside a max over instance and pod`,
            ).toBe(true);
          }
        }
      },
    );
  });
});

// ---------------------------------------------------------------- several organizations

/** The one alert on a series without an `org` label: `up` is Prometheus's, one per scrape target. */
const WITHOUT_ORG = ['MistralExporterDown'];

/** Every `by (...)`, `without (...)`, `on (...)` or `ignoring (...)` clause of an expression, with its labels. */
function groupings(expr: string): { kind: string; labels: string[]; at: number }[] {
  return [...expr.matchAll(/\b(by|without|on|ignoring)\s*\(([^)]*)\)/g)].map((m) => ({
    kind: m[1] as string,
    labels: (m[2] as string)
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean),
    at: m.index ?? 0,
  }));
}

/** The PromQL texts of an annotation's `query` calls: the format strings given to printf. */
function annotationQueries(text: string): string[] {
  return [...text.matchAll(/printf\s+"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] as string).filter((q) => q.includes('{'));
}

/** The `org` values of a unit test's input series. */
function orgsOf(test: UnitTest): Set<string> {
  return new Set((test.input_series ?? []).map((s) => seriesLabels(s.series).labels.org).filter((o): o is string => o !== undefined));
}

describe('several organizations: every series has an `org` label, and no alert mixes two', () => {
  const rules = [...alerts, ...records];

  it('every `by (...)` and `on (...)` names org; the one `on ()` is against day_of_month(), which has no label', () => {
    const problems: string[] = [];
    for (const r of rules) {
      for (const g of groupings(r.expr)) {
        if (g.kind !== 'by' && g.kind !== 'on') continue;
        if (g.labels.includes('org')) continue;
        const onNothingAgainstTime = g.kind === 'on' && g.labels.length === 0 && /^\s*day_of_month\(\)/.test(r.expr.slice(g.at + 5));
        if (!onNothingAgainstTime) problems.push(`${r.alert ?? r.record}: ${g.kind} (${g.labels.join(', ')})`);
      }
    }
    expect(problems).toEqual([]);
    // and no `without (...)` drops it
    for (const r of rules) {
      for (const g of groupings(r.expr).filter((x) => x.kind === 'without' || x.kind === 'ignoring')) {
        expect(g.labels, r.alert ?? r.record).not.toContain('org');
      }
    }
  });

  it('every query of an annotation selects one job and one organization (org="" for a single-organization exporter)', () => {
    const queries = alerts.flatMap((a) =>
      Object.values(a.annotations ?? {}).flatMap((text) => annotationQueries(text).map((q) => ({ alert: a.alert, q }))),
    );
    expect(queries.length).toBeGreaterThan(10);
    for (const { alert, q } of queries) {
      for (const selector of q.match(/\{[^}]*\}/g) ?? []) {
        expect(selector, `${alert}: ${q}`).toMatch(/\bjob=%q/);
        expect(selector, `${alert}: ${q}`).toMatch(/\borg=%q/);
      }
    }
  });

  it.each(CATALOG.filter((n) => !WITHOUT_ORG.includes(n)))(
    '%s: its summary and description name the organization when there is one',
    (name) => {
      const rule = alerts.find((a) => a.alert === name);
      expect(rule?.annotations?.summary).toContain('{{ with $labels.org }}');
      expect(rule?.annotations?.description).toContain('{{ with $labels.org }}');
    },
  );

  it.each(CATALOG.filter((n) => !WITHOUT_ORG.includes(n)))(
    '%s has a firing case with organizations a and b where it fires for one of them only, and a firing case without any org label',
    (name) => {
      const firing = casesOf(name).filter((c) => c.expAlerts.length > 0);
      const forOneOfTwo = firing.filter((c) => {
        const orgs = orgsOf(c.test);
        const alerted = new Set(c.expAlerts.map((a) => a.exp_labels?.org));
        return orgs.has('a') && orgs.has('b') && alerted.size === 1 && [...alerted].every((o) => o !== undefined && orgs.has(o));
      });
      expect(forOneOfTwo.length, `${name}: no case where it fires for one organization of two`).toBeGreaterThan(0);
      expect(
        firing.some((c) => orgsOf(c.test).size === 0),
        `${name}: no single-organization (no org label) firing case`,
      ).toBe(true);
    },
  );
});

// ---------------------------------------------------------------- the unit tests

describe('prometheus/alerts.test.yml', () => {
  it('tests prometheus/alerts.yml', () => {
    expect(testFile.rule_files).toEqual(['alerts.yml']);
  });

  it.each(RECORDS)('%s has promql_expr_test cases, with a value and without any', (record) => {
    const cases = testFile.tests.flatMap((t) => (t.promql_expr_test ?? []).filter((c) => c.expr.includes(record)));
    expect(cases.some((c) => (c.exp_samples ?? []).length > 0)).toBe(true);
    expect(cases.some((c) => (c.exp_samples ?? []).length === 0)).toBe(true);
  });

  it('tests no alert that does not exist', () => {
    const tested = new Set(testFile.tests.flatMap((t) => (t.alert_rule_test ?? []).map((c) => c.alertname)));
    expect([...tested].filter((n) => !(CATALOG as readonly string[]).includes(n))).toEqual([]);
  });

  it.each(CATALOG)('%s has a case that fires and one that does not', (name) => {
    const cases = casesOf(name);
    expect(
      cases.some((c) => c.expAlerts.length > 0),
      `${name}: no firing case`,
    ).toBe(true);
    expect(
      cases.some((c) => c.expAlerts.length === 0),
      `${name}: no case where it does not fire`,
    ).toBe(true);
  });

  it.each(CATALOG)(
    '%s fires once for two replicas: a firing case scrapes instance a and b, and no alert carries instance or pod',
    (name) => {
      const firing = casesOf(name).filter((c) => c.expAlerts.length > 0);
      expect(
        firing.some((c) => hasTwoReplicas(c.test)),
        `${name}: no firing case with two replicas`,
      ).toBe(true);
      for (const c of firing) {
        for (const a of c.expAlerts) {
          expect(Object.keys(a.exp_labels ?? {})).not.toContain('instance');
          expect(Object.keys(a.exp_labels ?? {})).not.toContain('pod');
          expect(a.exp_labels?.severity).toBe(alerts.find((r) => r.alert === name)?.labels?.severity);
        }
      }
    },
  );

  it('each firing case checks the annotations, runbook_url included', () => {
    for (const name of CATALOG) {
      for (const c of casesOf(name).filter((x) => x.expAlerts.length > 0)) {
        for (const a of c.expAlerts) {
          expect(Object.keys(a.exp_annotations ?? {}).sort(), `${name} in "${c.test.name}"`).toEqual([
            'description',
            'runbook_url',
            'summary',
          ]);
        }
      }
    }
  });

  it('MistralTokenLimitNear has a firing case with workspace_id series', () => {
    const firing = casesOf('MistralTokenLimitNear').filter((c) => c.expAlerts.length > 0);
    expect(
      firing.some((c) =>
        (c.test.input_series ?? []).some((s) => s.series.startsWith('mistral_usage_tokens') && /workspace_id=/.test(s.series)),
      ),
    ).toBe(true);
  });
});
