import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Organization } from '../src/config/index.js';
import type { ApiEndpoint } from '../src/endpoints.js';
import { createExporter, type Exporter } from '../src/exporter.js';
import { renderFamilies } from '../src/exposition.js';
import { MergedExposition, withOrgLabel } from '../src/organizations.js';
import type { MetricFamily } from '../src/sources/types.js';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { drive, FAST_RETRY, HARNESS_START, samples, valueOf } from './support/harness.js';
import { captureLogs } from './support/logs.js';
import { ManualClock } from './support/manual-clock.js';
import { hasTool, promtool } from './support/tools.js';

const KEYS = { north: 'north-key-4Tq9wZx2Lm7Pv3Rk', south: 'south-key-8Jd5sHc1Nb6Gf0Yw' } as const;
type OrgName = keyof typeof KEYS;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A directory with the given files (name → content); returns the path of each. */
function files(contents: Record<string, string>): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'orgs-'));
  dirs.push(dir);
  return Object.fromEntries(
    Object.entries(contents).map(([name, text]) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return [name, path];
    }),
  );
}

function load(yaml: string, env: Record<string, string> = {}, argv: string[] = []) {
  const path = files({ 'config.yaml': yaml })['config.yaml'] as string;
  return loadConfig({ argv: ['--config.file', path, ...argv], env });
}

function loadError(yaml: string, env: Record<string, string> = {}, argv: string[] = []): string {
  try {
    load(yaml, env, argv);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('the configuration was accepted');
}

describe('--config.file: the organizations and their settings', () => {
  it("each organization's entry wins over the environment, which fills in what it leaves out", () => {
    const keys = files({ north: `${KEYS.north}\n`, south: KEYS.south });
    const command = load(
      `organizations:
  - name: north
    MISTRAL_ADMIN_API_KEY_FILE: ${keys.north}
    REFRESH_INTERVAL_USAGE: 10m
    MISTRAL_WORKSPACE_IDS: [ws-1, ws-2]
  - name: south
    MISTRAL_ADMIN_API_KEY_FILE: ${keys.south}
    MAX_MODELS: 7
`,
      { REFRESH_INTERVAL: '2m', MAX_MODELS: '30', PORT: '9999' },
    );
    expect(command.kind).toBe('run');
    if (command.kind !== 'run') return;
    const [north, south] = command.organizations as Organization[];
    expect(north?.name).toBe('north');
    expect(north?.config.apiKey?.reveal()).toBe(KEYS.north);
    expect(north?.config.refreshIntervalsMs.usage).toBe(600_000);
    expect(north?.config.refreshIntervalsMs.spend_limit).toBe(120_000);
    expect(north?.config.workspaceIds).toEqual(['ws-1', 'ws-2']);
    expect(north?.config.maxModels).toBe(30);
    expect(south?.config.apiKey?.reveal()).toBe(KEYS.south);
    expect(south?.config.refreshIntervalsMs.usage).toBe(120_000);
    expect(south?.config.maxModels).toBe(7);
    // The process's own settings: the listener's, with no key of its own.
    expect(command.config.port).toBe(9999);
    expect(command.config.apiKey).toBeUndefined();
  });

  it('CONFIG_FILE in the environment does the same as the flag', () => {
    const path = files({ 'config.yaml': 'organizations:\n  - name: only\n    MISTRAL_ADMIN_API_KEY: k-1\n' })['config.yaml'] as string;
    const command = loadConfig({ argv: [], env: { CONFIG_FILE: path } });
    expect(command.kind === 'run' && command.organizations?.map((o) => o.name)).toEqual(['only']);
  });

  it.each([
    ['not YAML', 'organizations: [\n', /config\.yaml(:\d+)?: not valid YAML/],
    ['no list', 'organizations: {}\n', /`organizations` must be a list of at least one organization/],
    ['an empty list', 'organizations: []\n', /must be a list of at least one/],
    ['another top-level key', 'organisations: []\n', /unknown key "organisations"/],
    ['no name', 'organizations:\n  - MISTRAL_ADMIN_API_KEY: k\n', /config\.yaml:2: organization 1 has no name/],
    ['a bad name', 'organizations:\n  - name: "a b"\n', /name "a b" must be 1 to 63 letters/],
    [
      'a name twice',
      'organizations:\n  - {name: a, MISTRAL_ADMIN_API_KEY: k}\n  - {name: a, MISTRAL_ADMIN_API_KEY: k}\n',
      /config\.yaml:3: two organizations are named "a"/,
    ],
    [
      'an unknown setting',
      'organizations:\n  - name: a\n    REFRESH_INTERVALS: 1m\n',
      /config\.yaml:3: unknown setting "REFRESH_INTERVALS"/,
    ],
    [
      'a process-wide setting',
      'organizations:\n  - name: a\n    PORT: 1234\n',
      /PORT is a setting of the whole process, not of one organization/,
    ],
    [
      'a mapping as a value',
      'organizations:\n  - name: a\n    MAX_MODELS: {x: 1}\n',
      /MAX_MODELS must be a text, a number, a boolean or a list/,
    ],
    ['no key', 'organizations:\n  - name: a\n', /organization "a" \(.*config\.yaml:2\): MISTRAL_ADMIN_API_KEY is not set/],
    [
      'a bad value',
      'organizations:\n  - name: a\n    MISTRAL_ADMIN_API_KEY: k\n    REFRESH_INTERVAL: soon\n',
      /organization "a": .*config\.yaml:4: REFRESH_INTERVAL="soon": not a duration/,
    ],
    [
      'staleness shorter than its own interval',
      'organizations:\n  - name: a\n    MISTRAL_ADMIN_API_KEY: k\n    REFRESH_INTERVAL_USAGE: 3h\n',
      /organization "a" .*MAX_STALENESS=.*must be longer than the longest refresh interval \(3h, for usage\)/,
    ],
  ])('%s: one line saying what to fix', (_what, yaml, message) => {
    const got = loadError(yaml);
    expect(got).toMatch(message);
    expect(got).not.toContain('\n');
  });

  it('a key in the environment beside the file is refused: each organization names its own', () => {
    expect(loadError('organizations:\n  - {name: a, MISTRAL_ADMIN_API_KEY: k}\n', { MISTRAL_ADMIN_API_KEY: 'x' })).toMatch(
      /^MISTRAL_ADMIN_API_KEY is set with --config\.file: each organization names its key in the file/,
    );
  });

  it('--org picks the organization of a one-organization command; anywhere else it is refused', () => {
    const yaml = 'organizations:\n  - {name: a, MISTRAL_ADMIN_API_KEY: k-a}\n  - {name: b, MISTRAL_ADMIN_API_KEY: k-b, MAX_MODELS: 3}\n';
    const months = ['--from', '2026-01', '--to', '2026-02', '--output', '/tmp/x'];
    const command = load(yaml, {}, ['backfill', '--org', 'b', ...months]);
    expect(command.kind === 'backfill' && [command.backfill.org, command.config.maxModels, command.config.apiKey?.reveal()]).toEqual([
      'b',
      3,
      'k-b',
    ]);
    expect(loadError(yaml, {}, ['backfill', '--org', 'c', ...months])).toMatch(/--org="c": no such organization in .* \(a, b\)/);
    expect(loadError(yaml, {}, ['--org', 'a'])).toMatch(/--org is only for backfill and focus/);
    expect(() => loadConfig({ argv: ['--org', 'a'], env: { MISTRAL_ADMIN_API_KEY: 'k' } })).toThrow(
      /--org picks an organization of --config\.file/,
    );
    const path = files({ 'c.yaml': yaml })['c.yaml'] as string;
    const focus = loadConfig({ argv: ['--config.file', path, '--org', 'a'], env: {}, oneOrganization: true });
    expect(focus.kind === 'run' && [focus.org, focus.organizations, focus.config.apiKey?.reveal()]).toEqual(['a', undefined, 'k-a']);
  });

  it('a file that cannot be read, and commands that read one organization, are refused', () => {
    expect(() => loadConfig({ argv: ['--config.file', '/nonexistent/orgs.yaml'], env: {} })).toThrow(/cannot read the file \(ENOENT\)/);
    expect(
      loadError('organizations:\n  - {name: a, MISTRAL_ADMIN_API_KEY: k}\n', {}, [
        'backfill',
        '--from',
        '2026-01',
        '--to',
        '2026-02',
        '--output',
        '/tmp/x',
      ]),
    ).toMatch(/backfill reads one organization: name it with --org/);
  });
});

interface TwoOrgs {
  clock: ManualClock;
  sims: Record<OrgName, Simulator>;
  exporter: Exporter;
  logs: ReturnType<typeof captureLogs>;
  refresh(org: OrgName, endpoint: ApiEndpoint): Promise<void>;
  scrape(): Promise<string>;
}

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of open.splice(0)) await close();
});

/** Two simulated organizations (different figures), one exporter reading both from a config file; loops not started. */
async function twoOrgs(entries: Partial<Record<OrgName, string>> = {}, withKey: Partial<Record<OrgName, boolean>> = {}): Promise<TwoOrgs> {
  const clock = new ManualClock(HARNESS_START);
  const north = await startSimulator({ now: () => clock.now(), apiKey: KEYS.north, seed: 1 });
  const south = await startSimulator({ now: () => clock.now(), apiKey: KEYS.south, seed: 2, org: { spendLimit: 9000 } });
  const yaml = `organizations:
  - name: north
    MISTRAL_ADMIN_API_URL: ${north.url}
${withKey.north === false ? '' : `    MISTRAL_ADMIN_API_KEY: ${KEYS.north}`}
${entries.north ?? ''}
  - name: south
    MISTRAL_ADMIN_API_URL: ${south.url}
    MISTRAL_ADMIN_API_KEY: ${KEYS.south}
${entries.south ?? ''}
`;
  const command = load(yaml, { REFRESH_INTERVAL: '1h', ANALYTICS_REFRESH_INTERVAL: '1h', MAX_STALENESS: '2h', REQUEST_TIMEOUT: '2s' });
  if (command.kind !== 'run') throw new Error('unexpected command');
  const logs = captureLogs();
  const exporter = createExporter(
    command.config,
    { logger: logs.logger, clock, random: () => 0.5, retry: FAST_RETRY, processMetrics: false },
    command.organizations,
  );
  open.push(async () => {
    await exporter.app.close();
    await exporter.close();
    await north.close();
    await south.close();
  });
  const runtime = (org: OrgName) => {
    const found = exporter.organizations.find((o) => o.name === org);
    if (found === undefined) throw new Error(`no organization ${org}`);
    return found;
  };
  return {
    clock,
    sims: { north, south },
    exporter,
    logs,
    async refresh(org, endpoint) {
      await drive(clock, runtime(org).scheduler.refresh(endpoint));
      await exporter.whenRendered();
    },
    async scrape() {
      const res = await exporter.app.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      return res.body;
    },
  };
}

describe('several organizations in one exporter', () => {
  it("every series carries its organization's org label, each figure is that organization's, and each metric is one family", async () => {
    const t = await twoOrgs();
    for (const org of ['north', 'south'] as const) {
      for (const endpoint of ['spend_limit', 'usage', 'rate_limit'] as const) await t.refresh(org, endpoint);
    }
    const text = await t.scrape();
    for (const org of ['north', 'south'] as const) {
      const spend = t.sims[org].truth.spend();
      expect(valueOf(text, 'mistral_spend_limit', { org, currency: 'EUR' })).toBe(spend.limit);
      expect(valueOf(text, 'mistral_spend', { org, currency: 'EUR', product: 'api' })).toBe(spend.served.usage);
      expect(valueOf(text, 'mistral_up', { org, api_endpoint: 'usage' })).toBe(1);
    }
    expect(valueOf(text, 'mistral_spend_limit', { org: 'north', currency: 'EUR' })).not.toBe(
      valueOf(text, 'mistral_spend_limit', { org: 'south', currency: 'EUR' }),
    );
    // Every series of the Admin API and of the exporter's endpoints has an org; only build info and process metrics do not.
    for (const series of samples(text).keys()) {
      if (series.startsWith('mistral_exporter_build_info')) continue;
      expect(series, series).toMatch(/\{org="(north|south)"[,}]/);
    }
    // One HELP and one TYPE per metric: two organizations' series are one family.
    const types = text.split('\n').filter((l) => l.startsWith('# TYPE '));
    expect(new Set(types).size).toBe(types.length);
    expect(types.length).toBeGreaterThan(20);
  });

  it.runIf(hasTool('promtool'))('passes `promtool check metrics`', async () => {
    const t = await twoOrgs();
    for (const org of ['north', 'south'] as const) for (const endpoint of ['spend_limit', 'usage'] as const) await t.refresh(org, endpoint);
    const result = promtool(['check', 'metrics'], await t.scrape());
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it("one organization failing costs only its own freshness: the other's data stays, and its own is withdrawn at MAX_STALENESS", async () => {
    const t = await twoOrgs();
    for (const org of ['north', 'south'] as const) await t.refresh(org, 'spend_limit');
    t.sims.north.setFault('spend_limit', { kind: 'status', status: 500 }, 1000);
    await t.clock.set(HARNESS_START + 30 * 60_000);
    await t.refresh('north', 'spend_limit');
    await t.refresh('south', 'spend_limit');
    let text = await t.scrape();
    expect(valueOf(text, 'mistral_up', { org: 'north', api_endpoint: 'spend_limit' })).toBe(0);
    expect(valueOf(text, 'mistral_up', { org: 'south', api_endpoint: 'spend_limit' })).toBe(1);
    // North's last good data is served until it is older than MAX_STALENESS (2h)...
    expect(valueOf(text, 'mistral_spend_limit', { org: 'north', currency: 'EUR' })).toBe(t.sims.north.truth.spend().limit);

    // ...then withdrawn, while south, refreshed meanwhile, keeps every series.
    await t.clock.set(HARNESS_START + 90 * 60_000);
    await t.refresh('south', 'spend_limit');
    await t.clock.advance(31 * 60_000);
    await t.exporter.whenRendered();
    text = await t.scrape();
    expect(valueOf(text, 'mistral_spend_limit', { org: 'north', currency: 'EUR' })).toBeUndefined();
    expect(text).not.toMatch(/^mistral_spend[a-z_]*\{org="north"/m);
    expect(valueOf(text, 'mistral_spend_limit', { org: 'south', currency: 'EUR' })).toBe(9000);
    expect(valueOf(text, 'mistral_up', { org: 'north', api_endpoint: 'spend_limit' })).toBe(0);
    expect(t.logs.lines().some((l) => l.org === 'north' && /older than MAX_STALENESS/.test(String(l.msg)))).toBe(true);
  });

  it("one organization hanging does not hold the other's refreshes", async () => {
    const t = await twoOrgs();
    t.sims.north.setFault('usage', { kind: 'hang' }, 1000);
    const hanging = t.exporter.organizations[0]?.scheduler.refresh('usage');
    await t.refresh('south', 'usage');
    const text = await t.scrape();
    expect(valueOf(text, 'mistral_up', { org: 'south', api_endpoint: 'usage' })).toBe(1);
    expect(text).toMatch(/^mistral_usage_cost\{org="south",/m);
    expect(text).not.toMatch(/^mistral_usage_cost\{org="north",/m);
    await t.exporter.close();
    await hanging;
  });

  it("an organization's key file is re-read when it changes, for that organization only", async () => {
    const keys = files({ north: 'a-key-from-before-the-rotation', south: KEYS.south });
    const t = await twoOrgs({ north: `    MISTRAL_ADMIN_API_KEY_FILE: ${keys.north}`, south: '' }, { north: false });
    await t.refresh('north', 'rate_limit');
    await t.refresh('south', 'rate_limit');
    let text = await t.scrape();
    expect(valueOf(text, 'mistral_up', { org: 'north', api_endpoint: 'rate_limit' })).toBe(0);
    expect(valueOf(text, 'mistral_up', { org: 'south', api_endpoint: 'rate_limit' })).toBe(1);
    writeFileSync(keys.north as string, `${KEYS.north}\n`);
    // A change is applied at the second read that sees it.
    await t.exporter.pollFiles();
    await t.exporter.pollFiles();
    await t.refresh('north', 'rate_limit');
    text = await t.scrape();
    expect(valueOf(text, 'mistral_up', { org: 'north', api_endpoint: 'rate_limit' })).toBe(1);
    expect(t.logs.lines().some((l) => l.org === 'north' && /MISTRAL_ADMIN_API_KEY_FILE of organization north/.test(l.msg))).toBe(true);
    expect(JSON.stringify(t.logs.lines())).not.toContain('a-key-from-before-the-rotation');
  });

  it('requests are counted per organization, and neither key is ever printed', async () => {
    const t = await twoOrgs();
    t.sims.south.setFault('rate_limit', { kind: 'status', status: 401 }, 10);
    await t.refresh('north', 'rate_limit');
    await t.refresh('south', 'rate_limit');
    const text = await t.scrape();
    expect(valueOf(text, 'mistral_exporter_api_requests_total', { org: 'north', api_endpoint: 'rate_limit', code: '200' })).toBe(1);
    expect(valueOf(text, 'mistral_exporter_api_requests_total', { org: 'south', api_endpoint: 'rate_limit', code: '401' })).toBe(1);
    const page = (await t.exporter.app.inject({ method: 'GET', url: '/' })).body;
    expect(page).toContain('data-org="north"');
    expect(page).toContain('data-org="south"');
    for (const key of Object.values(KEYS)) {
      expect(text).not.toContain(key);
      expect(page).not.toContain(key);
      expect(JSON.stringify(t.logs.lines())).not.toContain(key);
    }
  });
});

describe('the merged rendering of several organizations', () => {
  /** The oracle: one family per name, in first-seen order, each organization's labelled samples in turn, rendered whole. */
  function mergedOracle(lists: ReadonlyArray<readonly MetricFamily[]>): MetricFamily[] {
    const byName = new Map<string, MetricFamily>();
    for (const families of lists)
      for (const f of families) {
        const seen = byName.get(f.name);
        if (seen === undefined) byName.set(f.name, { ...f, samples: [...f.samples] });
        else seen.samples.push(...f.samples);
      }
    return [...byName.values()];
  }

  const family = (name: string, samples: Array<[Record<string, string>, number]>): MetricFamily => ({
    name,
    help: `help of ${name}, with a \\ and a\nnewline`,
    labelNames: [...new Set(samples.flatMap(([l]) => Object.keys(l)))],
    samples: samples.map(([labels, value]) => ({ labels, value })),
  });

  it('is byte for byte the rendering of the merged families, whichever organization has which family, and follows updates', async () => {
    const north = [
      family('mistral_a', [[{ currency: 'EUR' }, 1.5]]),
      family('mistral_empty', []),
      family('mistral_b', [
        [{ model: 'x"y' }, 2],
        [{ model: 'z' }, 3],
      ]),
    ];
    const south = [family('mistral_b', [[{ model: 'z' }, 4]]), family('mistral_c', [[{}, 5]]), family('mistral_a', [])];
    const merged = new MergedExposition(['north', 'south'], ['usage'], captureLogs().logger);
    const body = async () => {
      await merged.whenIdle();
      const [chunk] = merged.chunks();
      if (chunk === undefined) return undefined;
      await chunk.make('openmetrics');
      return (chunk.body('openmetrics') as Buffer).toString();
    };
    const oracle = async (lists: Array<[string, readonly MetricFamily[]]>) =>
      (await renderFamilies(mergedOracle(lists.map(([org, f]) => withOrgLabel(f, org))), 'openmetrics')).replace(/# EOF\n$/, '');

    merged.update('south', 'usage', south);
    expect(await body()).toBe(await oracle([['south', south]]));
    merged.update('north', 'usage', north);
    const both = await body();
    expect(both).toBe(
      await oracle([
        ['north', north],
        ['south', south],
      ]),
    );
    expect(both?.match(/^# TYPE mistral_b gauge$/gm)).toHaveLength(1);
    // A new refresh of north: its series are rendered again, south's reused.
    const north2 = [family('mistral_b', [[{ model: 'z' }, 7]])];
    merged.update('north', 'usage', north2);
    expect(await body()).toBe(
      await oracle([
        ['north', north2],
        ['south', south],
      ]),
    );
    // Withdrawn: south alone, then nothing.
    merged.update('north', 'usage', undefined);
    expect(await body()).toBe(await oracle([['south', south]]));
    merged.update('south', 'usage', undefined);
    await merged.whenIdle();
    expect(merged.chunks()).toEqual([]);
  });
});
