import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Big } from 'big.js';
import { afterAll, describe, expect, it } from 'vitest';
import { helpText, loadConfig, type Config } from '../src/config/index.js';
import { FOCUS_COLUMNS, FOCUS_VERSION, type FocusRow } from '../src/focus/columns.js';
import { focusCsv } from '../src/focus/csv.js';
import { focusMain } from '../src/focus/cli.js';
import { readFocusExport, type FocusExport } from '../src/focus/read.js';
import { VERSION } from '../src/version.js';
import { captureLogs } from './support/logs.js';
import { CANARY_KEY, FAST_RETRY, HARNESS_START, samples, startHarness, useHarness, type Harness } from './support/harness.js';
import { clockEnv } from './support/tools.js';

/**
 * `focus`: a billing month of usage as FOCUS rows. The rows are read over
 * HTTP from the simulator, checked against the FOCUS 1.1 column rules
 * (written out here from the specification, not from the code), and added
 * up against what the exporter serves for the same month, with the same
 * simulator and the same clock.
 */

const harness = useHarness();
const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

// ------------------------------------------------- FOCUS 1.1's column rules

/** Every column FOCUS 1.1 makes mandatory, with its data type and whether it may be null (in a Usage row that is no correction). */
const MANDATORY: Record<string, { type: 'String' | 'Decimal' | 'DateTime'; nullable: boolean }> = {
  BilledCost: { type: 'Decimal', nullable: false },
  BillingAccountId: { type: 'String', nullable: false },
  BillingAccountName: { type: 'String', nullable: true },
  BillingCurrency: { type: 'String', nullable: false },
  BillingPeriodEnd: { type: 'DateTime', nullable: false },
  BillingPeriodStart: { type: 'DateTime', nullable: false },
  ChargeCategory: { type: 'String', nullable: false },
  ChargeClass: { type: 'String', nullable: true },
  ChargeDescription: { type: 'String', nullable: true },
  ChargePeriodEnd: { type: 'DateTime', nullable: false },
  ChargePeriodStart: { type: 'DateTime', nullable: false },
  ContractedCost: { type: 'Decimal', nullable: false },
  EffectiveCost: { type: 'Decimal', nullable: false },
  InvoiceIssuerName: { type: 'String', nullable: false },
  ListCost: { type: 'Decimal', nullable: false },
  // Nullable in general, never in a Usage row that is not a correction.
  PricingQuantity: { type: 'Decimal', nullable: false },
  PricingUnit: { type: 'String', nullable: false },
  ProviderName: { type: 'String', nullable: false },
  PublisherName: { type: 'String', nullable: false },
  ServiceCategory: { type: 'String', nullable: false },
  ServiceName: { type: 'String', nullable: false },
};

/** Conditional and recommended columns the export has, and their rules in a Usage row. */
const OPTIONAL: Record<string, { type: 'String' | 'Decimal'; nullable: boolean }> = {
  ChargeFrequency: { type: 'String', nullable: false },
  ServiceSubcategory: { type: 'String', nullable: false },
  ConsumedQuantity: { type: 'Decimal', nullable: false },
  ConsumedUnit: { type: 'String', nullable: false },
  SkuId: { type: 'String', nullable: false },
  SkuMeter: { type: 'String', nullable: true },
  RegionId: { type: 'String', nullable: true },
  RegionName: { type: 'String', nullable: true },
  SubAccountId: { type: 'String', nullable: true },
  SubAccountName: { type: 'String', nullable: true },
};

/** Numeric Format: an integer, a decimal or E notation; no sign on a positive value, no sign on a positive exponent, no commas or units. */
const NUMERIC = /^-?\d+(\.\d+)?(E-?\d+)?$/;
/** Date/Time Format: extended ISO 8601, UTC, to the second. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const SERVICE_CATEGORIES = ['AI and Machine Learning', 'Analytics', 'Business Applications', 'Compute', 'Databases', 'Developer Tools'];
const AI_SUBCATEGORIES = [
  'AI Platforms',
  'Bots',
  'Generative AI',
  'Machine Learning',
  'Natural Language Processing',
  'Other (AI and Machine Learning)',
];

/** RFC 4180, as a warehouse's loader reads it: quoted fields with doubled quotes; an empty unquoted field is null. */
function parseCsv(text: string): Array<Array<string | null>> {
  const rows: Array<Array<string | null>> = [];
  let row: Array<string | null> = [];
  let i = 0;
  while (i < text.length) {
    let field: string | null;
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const j = text.indexOf('"', i);
        if (j < 0) throw new Error('unterminated quote');
        value += text.slice(i, j);
        if (text[j + 1] === '"') {
          value += '"';
          i = j + 2;
        } else {
          i = j + 1;
          break;
        }
      }
      field = value;
    } else {
      const end = text.slice(i).search(/,|\r\n/);
      const value = end < 0 ? text.slice(i) : text.slice(i, i + end);
      if (/["\r\n]/.test(value)) throw new Error(`bare quote or line break in ${JSON.stringify(value)}`);
      field = value === '' ? null : value;
      i += value.length;
    }
    row.push(field);
    if (text.startsWith('\r\n', i)) {
      rows.push(row);
      row = [];
      i += 2;
    } else if (text[i] === ',') i++;
    else if (i < text.length) throw new Error(`unexpected ${JSON.stringify(text[i])} at ${i}`);
  }
  if (row.length > 0) rows.push(row);
  return rows;
}

/** The file's rows as column → value, checking that every row has the header's width. */
function records(csv: string): { header: string[]; rows: Array<Record<string, string | null>> } {
  const [header, ...body] = parseCsv(csv) as [string[], ...Array<Array<string | null>>];
  for (const r of body) expect(r.length).toBe(header.length);
  return { header, rows: body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? null]))) };
}

/** Every FOCUS 1.1 rule the export can be held to, on the CSV as written. */
function expectFocusValid(csv: string, billing: { start: string; end: string }): Array<Record<string, string | null>> {
  const { header, rows } = records(csv);
  // Names: every mandatory column; Pascal case, alphanumeric; custom ones x_-prefixed and after the FOCUS ones.
  for (const name of Object.keys(MANDATORY)) expect(header, name).toContain(name);
  for (const name of header) expect(name).toMatch(/^(x_)?[A-Z][A-Za-z0-9]*$/);
  const firstCustom = header.findIndex((h) => h.startsWith('x_'));
  expect(header.slice(firstCustom).every((h) => h.startsWith('x_'))).toBe(true);
  expect(new Set(header).size).toBe(header.length);
  for (const name of header.slice(0, firstCustom))
    expect(name in MANDATORY || name in OPTIONAL, `${name} is a FOCUS 1.1 column`).toBe(true);

  for (const row of rows) {
    const where = JSON.stringify(row);
    for (const [name, rule] of Object.entries({ ...MANDATORY, ...OPTIONAL })) {
      const value = row[name];
      if (value === undefined) continue;
      if (value === null) {
        expect(rule.nullable, `${name} null in ${where}`).toBe(true);
        continue;
      }
      expect(value, `${name}: an empty string stands for no null`).not.toBe('');
      if (rule.type === 'Decimal') expect(value, name).toMatch(NUMERIC);
      if (rule.type === 'DateTime') {
        expect(value, name).toMatch(DATE_TIME);
        expect(new Date(value).toISOString().replace('.000Z', 'Z')).toBe(value);
      }
    }
    expect(row.ChargeCategory).toBe('Usage');
    expect(row.ChargeClass).toBeNull();
    expect(row.ChargeFrequency).toBe('Usage-Based');
    expect(SERVICE_CATEGORIES).toContain(row.ServiceCategory);
    expect(AI_SUBCATEGORIES).toContain(row.ServiceSubcategory);
    expect(row.BillingCurrency).toMatch(/^[A-Z]{3}$/);
    expect(row.ProviderName).toBe('Mistral AI');
    expect([row.BillingPeriodStart, row.BillingPeriodEnd]).toEqual([billing.start, billing.end]);
    // The charge period: inclusive start, exclusive end, inside the billing period.
    const start = Date.parse(row.ChargePeriodStart as string);
    const end = Date.parse(row.ChargePeriodEnd as string);
    expect(end).toBeGreaterThan(start);
    expect(start).toBeGreaterThanOrEqual(Date.parse(billing.start));
    expect(end).toBeLessThanOrEqual(Date.parse(billing.end));
    // A Usage row's consumed quantity is positive; the cost is the priced quantity's, whatever it is called.
    expect(new Big(row.ConsumedQuantity as string).gt(0), where).toBe(true);
    expect(new Big(row.PricingQuantity as string).lte(row.ConsumedQuantity as string), where).toBe(true);
    for (const cost of ['EffectiveCost', 'ListCost', 'ContractedCost']) expect(row[cost], cost).toBe(row.BilledCost);
    expect(new Big(row.BilledCost as string).gte(0)).toBe(true);
    expect(row.x_CostSource).toBe('ComputedFromUsagePrices');
  }
  return rows;
}

// ------------------------------------------------------------ the harness

function configFor(h: Harness, env: Record<string, string> = {}): Config {
  const command = loadConfig({
    argv: [],
    env: { MISTRAL_ADMIN_API_KEY: CANARY_KEY, MISTRAL_ADMIN_API_URL: h.sim.url, REQUEST_TIMEOUT: '2s', ...env },
  });
  if (command.kind !== 'run') throw new Error('unexpected command');
  return command.config;
}

async function exportOf(
  h: Harness,
  config: Config,
  month = { year: 2026, month: 11 },
  { logger } = captureLogs({ level: 'info' }),
): Promise<FocusExport> {
  return readFocusExport(config, month, { id: 'org-test', name: undefined }, { logger, clock: h.clock, retry: FAST_RETRY });
}

/** Σ of the exporter's mistral_usage_cost per currency (and workspace, when it has them), as numbers. */
function exporterCost(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [series, value] of samples(text)) {
    if (!series.startsWith('mistral_usage_cost{')) continue;
    const currency = /currency="([^"]*)"/.exec(series)?.[1] as string;
    const workspace = /workspace_id="([^"]*)"/.exec(series)?.[1];
    const key = workspace === undefined ? currency : `${currency}/${workspace}`;
    out.set(key, (out.get(key) ?? 0) + value);
  }
  return out;
}

function focusCost(rows: readonly FocusRow[], byWorkspace: boolean): Map<string, Big> {
  const out = new Map<string, Big>();
  for (const r of rows) {
    const key = byWorkspace ? `${r.BillingCurrency}/${r.SubAccountId}` : (r.BillingCurrency as string);
    out.set(key, (out.get(key) ?? new Big(0)).plus(r.BilledCost as string));
  }
  return out;
}

function expectSameCost(focus: Map<string, Big>, exporter: Map<string, number>): void {
  expect([...focus.keys()].sort()).toEqual([...exporter.keys()].sort());
  for (const [key, sum] of focus) {
    const served = exporter.get(key) as number;
    expect(served, key).toBeGreaterThan(0);
    // The exporter's samples are floats; the file's decimals are exact.
    expect(Math.abs(Number(sum.toString()) - served) / served, `${key}: ${sum.toString()} vs ${served}`).toBeLessThan(1e-12);
  }
}

// ------------------------------------------------------------------ tests

describe('focus: the rows of a month, over HTTP against the simulator', () => {
  it('are daily FOCUS 1.1 rows that add up to the month-to-date mistral_usage_cost the exporter serves', async () => {
    const env = { USAGE_ASSUMED_SERVICE_TIER: 'standard' };
    const h = await harness({ env });
    await h.refresh('usage');
    const served = exporterCost(await h.scrape());

    const result = await exportOf(h, configFor(h, env));
    const rows = expectFocusValid(focusCsv(result.rows), { start: '2026-11-01T00:00:00Z', end: '2026-12-01T00:00:00Z' });
    expect(rows.length).toBe(result.rows.length);
    expectSameCost(focusCost(result.rows, false), served);

    // Daily: one charge period per UTC day of the month so far (the clock is on the 15th at noon), each one day long.
    const days = [...new Set(result.rows.map((r) => r.ChargePeriodStart))].sort();
    expect(days).toHaveLength(15);
    expect(days[0]).toBe('2026-11-01T00:00:00Z');
    expect(days[14]).toBe('2026-11-15T00:00:00Z');
    for (const r of result.rows)
      expect(Date.parse(r.ChargePeriodEnd as string) - Date.parse(r.ChargePeriodStart as string)).toBe(86_400_000);
    expect(result.undatedEntries).toBe(0);
    // Organization-wide: no sub account; zones and tiers as the prices tell them apart.
    expect(result.rows.every((r) => r.SubAccountId === null)).toBe(true);
    expect(new Set(result.rows.map((r) => r.RegionId))).toEqual(new Set(['global', 'eu', 'us']));
    expect(result.rows.every((r) => r.BillingAccountId === 'org-test')).toBe(true);
  });

  it("sums per model, billing group, zone and tier to the simulator's own truth, exactly", async () => {
    const env = { USAGE_ASSUMED_SERVICE_TIER: 'standard' };
    const h = await harness({ env });
    const result = await exportOf(h, configFor(h, env));
    const key = (category: string, model: string, group: string, zone: string, tier: string) =>
      [category, model, group, zone, tier].join('|');
    const sums = new Map<string, { value: Big; paid: Big; cost: Big }>();
    for (const r of result.rows) {
      const k = key(r.x_UsageCategory as string, r.x_Model as string, r.x_BillingGroup as string, r.RegionId ?? '', r.x_ServiceTier ?? '');
      const s = sums.get(k) ?? { value: new Big(0), paid: new Big(0), cost: new Big(0) };
      sums.set(k, {
        value: s.value.plus(r.ConsumedQuantity as string),
        paid: s.paid.plus(r.PricingQuantity as string),
        cost: s.cost.plus(r.BilledCost as string),
      });
    }
    const truth = h.sim.truth.usage().rows.filter((t) => t.cost !== null && Number(t.value) > 0);
    expect(truth.length).toBeGreaterThan(10);
    for (const t of truth) {
      const got = sums.get(key(t.category, t.billingMetric, t.billingGroup, t.apiZone, t.serviceTier));
      expect(got, `${t.category} ${t.billingMetric} ${t.billingGroup} ${t.apiZone} ${t.serviceTier}`).toBeDefined();
      expect(got?.value.toString()).toBe(new Big(t.value).toString());
      expect(got?.paid.toString()).toBe(new Big(t.valuePaid).toString());
      expect(got?.cost.toString()).toBe(new Big(t.cost as string).toString());
    }
    expect(sums.size).toBe(truth.length);
    // Unpriced usage (a connector has no price in the simulated list) makes no row, and is counted.
    const unpriced = h.sim.truth.usage().unpriced;
    expect(unpriced.length).toBeGreaterThan(0);
    expect(result.unpricedEntries).toBe(unpriced.reduce((n, t) => n + t.entries, 0));
    for (const t of unpriced)
      expect(result.rows.some((r) => r.x_Model === t.billingMetric && r.x_BillingGroup === t.billingGroup)).toBe(false);
  });

  it('per workspace when MISTRAL_WORKSPACE_IDS is set: SubAccountId, and the sums of the exporter per workspace', async () => {
    const probe = await startHarness();
    const workspaceIds = probe.sim.truth.workspaceIds;
    await probe.close();
    const env = { MISTRAL_WORKSPACE_IDS: workspaceIds.join(','), USAGE_ASSUMED_SERVICE_TIER: 'standard' };
    const h = await harness({ env });
    await h.refresh('usage');
    const served = exporterCost(await h.scrape());
    h.sim.requests.length = 0;

    const result = await exportOf(h, configFor(h, env));
    expectFocusValid(focusCsv(result.rows), { start: '2026-11-01T00:00:00Z', end: '2026-12-01T00:00:00Z' });
    expect(new Set(result.rows.map((r) => r.SubAccountId))).toEqual(new Set(workspaceIds));
    // Each workspace's name, as GET workspaces lists it.
    const names = new Map(h.sim.truth.workspaces().map((w) => [w.uuid, w.name]));
    for (const r of result.rows) expect(r.SubAccountName).toBe(names.get(r.SubAccountId as string));
    expectSameCost(focusCost(result.rows, true), served);
    expect(result.workspaces).toBe(workspaceIds.length);
    // GET only: usage once per workspace and once more per zone of the prices, for the month asked; workspaces once, for the names.
    const usage = h.sim.requests.filter((r) => r.endpoint === 'usage');
    expect(h.sim.requests.every((r) => r.method === 'GET' && (r.endpoint === 'usage' || r.endpoint === 'workspaces'))).toBe(true);
    expect(usage).toHaveLength(workspaceIds.length * 4);
    expect(h.sim.requests.filter((r) => r.endpoint === 'workspaces')).toHaveLength(1);
    expect(result.calls.requests).toBe(usage.length + 1);
  });

  it('per workspace, a key that cannot list workspaces costs the names only: a warning, and the rows', async () => {
    const probe = await startHarness();
    const workspaceIds = probe.sim.truth.workspaceIds;
    await probe.close();
    const env = { MISTRAL_WORKSPACE_IDS: workspaceIds.join(','), USAGE_ASSUMED_SERVICE_TIER: 'standard' };
    const h = await harness({ env });
    h.sim.setFault('workspaces', { kind: 'status', status: 403, body: { detail: 'Forbidden' } }, 10);
    const logs = captureLogs({ level: 'info' });
    const result = await exportOf(h, configFor(h, env), undefined, logs);
    expect(new Set(result.rows.map((r) => r.SubAccountId))).toEqual(new Set(workspaceIds));
    expect(result.rows.every((r) => r.SubAccountName === null)).toBe(true);
    expect(logs.lines().some((l) => /SubAccountName is left empty/.test(l.msg))).toBe(true);
  });

  it('reads a past month whole: every day of it, no partial day', async () => {
    const h = await harness({ env: { USAGE_ASSUMED_SERVICE_TIER: 'standard' } });
    const result = await exportOf(h, configFor(h, { USAGE_ASSUMED_SERVICE_TIER: 'standard' }), { year: 2026, month: 10 });
    expectFocusValid(focusCsv(result.rows), { start: '2026-10-01T00:00:00Z', end: '2026-11-01T00:00:00Z' });
    expect(new Set(result.rows.map((r) => r.ChargePeriodStart)).size).toBe(31);
    const truth = h.sim.truth.usage({ year: 2026, month: 10 });
    const total = result.rows.reduce((s, r) => s.plus(r.BilledCost as string), new Big(0));
    expect(total.toString()).toBe(new Big(truth.totalCost).toString());
    expect(h.sim.requests.filter((r) => r.endpoint === 'usage').every((r) => r.query.month === '10' && r.query.year === '2026')).toBe(true);
  });
});

describe('focus: entries of no readable day', () => {
  it('are kept, in rows whose charge period is the whole month, and counted', async () => {
    const h = await harness({ env: { USAGE_ASSUMED_SERVICE_TIER: 'standard' } });
    // One zone in the prices (one request), and the days of one model's entries unreadable or absent.
    const body = h.sim.bodyFor('usage', { month: '11', year: '2026' }) as {
      prices: Array<{ api_zone: string }>;
      completion: { models: Record<string, Record<string, Array<Record<string, unknown>>>> };
    };
    body.prices = body.prices.filter((p) => p.api_zone === 'global');
    const [modelKey, groups] = Object.entries(body.completion.models)[0] as [string, Record<string, Array<Record<string, unknown>>>];
    let undated = 0;
    for (const entries of Object.values(groups)) {
      entries.forEach((e, i) => {
        if (i % 2 === 0) delete e.timestamp;
        else e.timestamp = 'yesterday';
        undated += 1;
      });
    }
    h.sim.setFault('usage', { kind: 'status', status: 200, body });
    const result = await exportOf(h, configFor(h, { USAGE_ASSUMED_SERVICE_TIER: 'standard' }));
    expect(result.undatedEntries).toBe(undated);
    const model = modelKey.slice(modelKey.lastIndexOf('::') + 2);
    const monthRows = result.rows.filter((r) => r.ChargePeriodEnd === '2026-12-01T00:00:00Z');
    expect(monthRows.length).toBeGreaterThan(0);
    expect(
      monthRows.every((r) => r.x_Model === model && r.x_UsageCategory === 'completion' && r.ChargePeriodStart === '2026-11-01T00:00:00Z'),
    ).toBe(true);
    expectFocusValid(focusCsv(result.rows), { start: '2026-11-01T00:00:00Z', end: '2026-12-01T00:00:00Z' });
    // The other models stay daily.
    expect(result.rows.filter((r) => r.x_Model !== model).every((r) => r.ChargePeriodEnd !== '2026-12-01T00:00:00Z')).toBe(true);
  });
});

describe('focus: the CSV', () => {
  it('quotes commas, quotes and line breaks; writes null as an empty field and an empty string quoted', () => {
    const base = Object.fromEntries(FOCUS_COLUMNS.map((c) => [c.name, 'x'])) as FocusRow;
    const row: FocusRow = { ...base, ChargeDescription: 'a "b", c\r\nd', x_Model: '', x_ServiceTier: null };
    const csv = focusCsv([row]);
    expect(csv.endsWith('\r\n')).toBe(true);
    const [header, parsed] = parseCsv(csv) as [string[], Array<string | null>];
    expect(header).toEqual(FOCUS_COLUMNS.map((c) => c.name));
    const byName = Object.fromEntries(header.map((h, i) => [h, parsed[i]]));
    expect(byName.ChargeDescription).toBe('a "b", c\r\nd');
    expect(byName.x_Model).toBe('');
    expect(byName.x_ServiceTier).toBeNull();
    expect(csv).toContain(',"a ""b"", c\r\nd",');
  });

  it('declares FOCUS 1.1 and every column of it that it writes with the type the specification gives', () => {
    expect(FOCUS_VERSION).toBe('1.1');
    for (const c of FOCUS_COLUMNS) {
      const rule = MANDATORY[c.name] ?? OPTIONAL[c.name];
      if (c.name.startsWith('x_')) continue;
      expect(rule, c.name).toBeDefined();
      expect(c.type.replace('/', '')).toBe(rule?.type);
    }
  });
});

describe('focus: the command', () => {
  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, deps: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t) } };
  }

  it('writes the file, says what it wrote on stderr, and never prints the key', async () => {
    const h = await harness();
    const dir = mkdtempSync(join(tmpdir(), 'focus-'));
    temps.push(dir);
    const file = join(dir, 'usage-2026-11.csv');
    const io = capture();
    const env = { MISTRAL_ADMIN_API_KEY: CANARY_KEY, MISTRAL_ADMIN_API_URL: h.sim.url, USAGE_ASSUMED_SERVICE_TIER: 'standard' };
    const code = await focusMain(['--month', '2026-11', '--output', file, '--billing-account-id=org-1'], env, {
      ...io.deps,
      clock: h.clock,
      retry: FAST_RETRY,
    });
    const stderr = io.err.join('');
    // Connector usage has no price in the simulated list: left out, said, exit 1.
    expect(code).toBe(1);
    expect(stderr).toMatch(/usage entries have no single matching unit price/);
    expect(stderr).toMatch(
      /focus: \d+ rows of 2026-11 \(the organization, FOCUS 1\.1\) written to .*usage-2026-11\.csv; BilledCost \d+\.\d{2} EUR/,
    );
    expect(io.out.join('')).toBe('');
    const csv = readFileSync(file, 'utf8');
    const rows = expectFocusValid(csv, { start: '2026-11-01T00:00:00Z', end: '2026-12-01T00:00:00Z' });
    expect(rows.every((r) => r.BillingAccountId === 'org-1')).toBe(true);
    expect(readdirSync(dir)).toEqual(['usage-2026-11.csv']);
    for (const text of [stderr, csv]) expect(text).not.toContain(CANARY_KEY);
    expect(h.sim.requests.every((r) => r.method === 'GET')).toBe(true);
  });

  it('fails with one line, and no file, when the key is refused', async () => {
    const h = await harness();
    const dir = mkdtempSync(join(tmpdir(), 'focus-'));
    temps.push(dir);
    const io = capture();
    const env = { MISTRAL_ADMIN_API_KEY: 'wrong-key-Zr8q', MISTRAL_ADMIN_API_URL: h.sim.url };
    const code = await focusMain(['--month=2026-11', '--output', join(dir, 'x.csv')], env, {
      ...io.deps,
      clock: h.clock,
      retry: FAST_RETRY,
    });
    expect(code).toBe(1);
    expect(io.err.join('')).toMatch(/GET usage of 2026-11 failed: the Admin API rejected the key \(401\).*no file written/);
    expect(io.err.join('')).not.toContain('wrong-key-Zr8q');
    expect(existsSync(join(dir, 'x.csv'))).toBe(false);
  });

  it('refuses a bad month or a flag without its value (exit 2)', async () => {
    for (const args of [['--month', '2026-13'], ['--month', 'November'], ['--output']]) {
      const io = capture();
      expect(await focusMain(args, { MISTRAL_ADMIN_API_KEY: CANARY_KEY }, io.deps), args.join(' ')).toBe(2);
      expect(io.err.join('')).toMatch(/^mistral-admin-exporter focus: --(month|output)/);
    }
  });

  it('runs as a user runs it: `focus --demo` against the built-in simulator, the CSV on stdout; and --help documents it', async () => {
    const main = new URL('../src/main.ts', import.meta.url).pathname;
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
          env: { PATH: process.env.PATH, HOME: process.env.HOME, ...clockEnv() },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
        });
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    // Last month (whichever it is: the demo's simulator runs on the real clock), read whole.
    const now = new Date();
    const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
    const demo = await run(['focus', '--demo', '--month', month]);
    expect(demo.stderr).toContain(`reading usage of ${month} from the built-in simulator`);
    const { rows } = records(demo.stdout);
    expect(rows[0]?.ChargePeriodStart).toBe(`${month}-01T00:00:00Z`);
    expect(rows.every((r) => r.BillingPeriodStart === `${month}-01T00:00:00Z`)).toBe(true);
    const help = helpText(VERSION);
    expect(help).toMatch(/mistral-admin-exporter focus \[--month YYYY-MM\] \[--output FILE\.csv\]/);
    expect(help).toMatch(/FOCUS 1\.1/);
  });
});

// The harness's clock: mid-month, so that the current month is November 2026.
expect(new Date(HARNESS_START).toISOString().slice(0, 7)).toBe('2026-11');
