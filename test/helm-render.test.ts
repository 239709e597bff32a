/**
 * The Helm chart rendered: by `helm` when it is on PATH, else by helm-render
 * (../shared/tools/helm-render, which renders as `helm template` does and runs
 * `helm lint`'s offline rules). Every rendered object is checked against the
 * Kubernetes and Prometheus Operator schemas (kubernetes-models) and against
 * the other objects (selectors, ports, names). Renders: the defaults, every
 * ci/*-values.yaml, every helm command of the chart's README, and hostile
 * values. Under CI=true these tests run and fail when neither tool works;
 * elsewhere they are skipped with a loud line on stderr.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { ALERTS_COPY, CHART_DIR, DASHBOARDS_COPY, ROOT } from '../scripts/sync-chart.js';
import { ConfigError, loadConfig } from '../src/config/index.js';
import { SETTINGS, type SettingDef } from '../src/config/settings.js';
import { loadWebConfig } from '../src/web-config.js';
import { findChartTool, parseManifests, shellCommands, shellWords, type ChartTool, type Manifest, type Run } from './support/helm.js';
import { manifestErrors } from './support/k8s.js';
import { makePki } from './support/tls.js';
import { hasTool, promtool } from './support/tools.js';

type Json = Record<string, unknown>;

const CI = process.env.CI === 'true';
const FOUND = findChartTool();
const RUN = FOUND.tool !== undefined || CI;
if (!RUN) {
  process.stderr.write(
    `\n*** SKIPPED: the Helm chart was not rendered (helm lint, helm template, schema checks of the objects): ${FOUND.why}. ` +
      'Under CI=true this fails. ***\n\n',
  );
}
const PROMTOOL = RUN && hasTool('promtool');

function tool(): ChartTool {
  if (FOUND.tool === undefined) throw new Error(`neither helm nor helm-render works: ${FOUND.why}`);
  return FOUND.tool;
}

const CI_FILES = readdirSync(join(CHART_DIR, 'ci'))
  .filter((f) => f.endsWith('-values.yaml'))
  .sort();
const ciFile = (f: string): string => join(CHART_DIR, 'ci', f);
const readChart = (rel: string): string => readFileSync(join(CHART_DIR, rel), 'utf8');

/** The least a render needs: a Secret holding the key. */
const KEY = ['--set', 'existingSecret.name=s'];

function template(args: readonly string[], release = 'test'): Run {
  return tool().template(release, CHART_DIR, args);
}

/** Renders, expecting success; returns the objects. */
function render(args: readonly string[], release = 'test'): Manifest[] {
  const r = template(args, release);
  expect(r.status, r.output).toBe(0);
  return parseManifests(r.stdout);
}

/** Renders, expecting failure; returns what the tool said. */
function renderFails(args: readonly string[], release = 'test'): string {
  const r = template(args, release);
  expect(r.status, `the render should have failed:\n${r.stdout}`).not.toBe(0);
  expect(r.stderr).toMatch(/Error/);
  return r.stderr;
}

const metadata = (o: Manifest): Json => (o.metadata ?? {}) as Json;
const nameOf = (o: Manifest): string => metadata(o).name as string;
const ofKind = (objects: readonly Manifest[], kind: string): Manifest[] => objects.filter((o) => o.kind === kind);
const one = (objects: readonly Manifest[], kind: string): Manifest => {
  const found = ofKind(objects, kind);
  expect(found.map(nameOf), `one ${kind}`).toHaveLength(1);
  return found[0] as Manifest;
};

interface Container {
  name: string;
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}
interface PodSpec {
  containers: Container[];
  volumes?: Array<{ name: string; secret?: { secretName: string } }>;
}

function podOf(objects: readonly Manifest[]): { labels: Json; spec: PodSpec } {
  const template = ((one(objects, 'Deployment').spec as Json).template ?? {}) as { metadata?: { labels?: Json }; spec: PodSpec };
  return { labels: template.metadata?.labels ?? {}, spec: template.spec };
}

function containerOf(objects: readonly Manifest[]): Container {
  return podOf(objects).spec.containers[0] as Container;
}

function matches(selector: Json | undefined, labels: Json): boolean {
  const wanted = (selector?.matchLabels ?? {}) as Json;
  return Object.keys(wanted).length > 0 && Object.entries(wanted).every(([k, v]) => labels[k] === v);
}

/** What the objects of one release must agree on among themselves. */
function chartErrors(objects: readonly Manifest[]): string[] {
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const o of objects) {
    const id = `${String(o.kind)} ${String(metadata(o).namespace)}/${nameOf(o)}`;
    if (seen.has(id)) errors.push(`${id} is rendered twice`);
    seen.add(id);
    if (nameOf(o).length > 63) errors.push(`${id}: the name is longer than 63 characters`);
  }
  const text = JSON.stringify(objects);
  for (const bad of ['%!', '<nil>', '<no value>']) if (text.includes(bad)) errors.push(`a rendered value holds ${bad}`);

  const deployments = ofKind(objects, 'Deployment');
  if (deployments.length !== 1) return [...errors, `${deployments.length} Deployments`];
  const pod = podOf(objects);
  const c = pod.spec.containers[0] as Container;
  const deploymentSpec = one(objects, 'Deployment').spec as Json;
  if (!matches(deploymentSpec.selector as Json, pod.labels)) errors.push("the Deployment's selector does not select its pods");
  const portNames = new Set((c.ports ?? []).map((p) => p.name));
  const envNames = (c.env ?? []).map((e) => e.name);
  for (const name of SECRET_ENVS) if (envNames.includes(name)) errors.push(`the key ${name} is in the environment`);
  if (JSON.stringify(c.env ?? []).includes('secretKeyRef')) errors.push('an environment variable is read from a Secret');
  if (new Set(envNames).size !== envNames.length) errors.push(`an environment variable is set twice: ${envNames.join(', ')}`);
  const volumeNames = (pod.spec.volumes ?? []).map((v) => v.name);
  const volumes = new Set(volumeNames);
  if (volumes.size !== volumeNames.length) errors.push(`a volume name is used twice: ${volumeNames.join(', ')}`);
  for (const m of c.volumeMounts ?? []) if (!volumes.has(m.name)) errors.push(`volumeMount ${m.name} has no volume`);
  const mountPaths = (c.volumeMounts ?? []).map((m) => m.mountPath.replace(/\/$/, ''));
  if (new Set(mountPaths).size !== mountPaths.length) errors.push(`a mount path is used twice: ${mountPaths.join(', ')}`);
  for (const v of pod.spec.volumes ?? []) {
    if (v.secret && !v.secret.secretName) errors.push(`volume ${v.name} names no Secret`);
  }

  for (const svc of ofKind(objects, 'Service')) {
    const spec = svc.spec as { selector?: Json; ports: Array<{ name: string; targetPort: unknown }> };
    if (!matches({ matchLabels: spec.selector }, pod.labels)) errors.push(`Service ${nameOf(svc)} does not select the pods`);
    for (const p of spec.ports)
      if (typeof p.targetPort === 'string' && !portNames.has(p.targetPort))
        errors.push(`Service port ${p.name}: no container port ${p.targetPort}`);
  }
  const service = ofKind(objects, 'Service')[0];
  for (const sm of ofKind(objects, 'ServiceMonitor')) {
    const spec = sm.spec as { selector: Json; namespaceSelector?: { matchNames?: string[] }; endpoints: Array<{ port: string }> };
    if (!service || !matches(spec.selector, metadata(service).labels as Json))
      errors.push('the ServiceMonitor does not select the Service');
    if (service && !spec.namespaceSelector?.matchNames?.includes(metadata(service).namespace as string))
      errors.push("the ServiceMonitor does not look in the Service's namespace");
    const servicePorts = ((service?.spec as Json | undefined)?.ports ?? []) as Array<{ name: string }>;
    for (const e of spec.endpoints)
      if (!servicePorts.some((p) => p.name === e.port)) errors.push(`ServiceMonitor endpoint port ${e.port} is not a port of the Service`);
  }
  for (const kind of ['PodDisruptionBudget', 'NetworkPolicy']) {
    for (const o of ofKind(objects, kind)) {
      const spec = o.spec as { selector?: Json; podSelector?: Json };
      if (!matches(spec.selector ?? spec.podSelector, pod.labels)) errors.push(`${kind} ${nameOf(o)} does not select the pods`);
    }
  }
  for (const np of ofKind(objects, 'NetworkPolicy')) {
    const ingress = ((np.spec as Json).ingress ?? []) as Array<{ ports?: Array<{ port: unknown }> }>;
    for (const rule of ingress) {
      for (const p of rule.ports ?? [])
        if (typeof p.port === 'string' && !portNames.has(p.port))
          errors.push(`NetworkPolicy ingress port ${p.port} is not a container port`);
    }
  }
  return errors;
}

/** promtool's verdict on the rule groups of the PrometheusRules (when promtool is there). */
function ruleErrors(objects: readonly Manifest[]): string[] {
  const rules = ofKind(objects, 'PrometheusRule');
  if (!PROMTOOL || rules.length === 0) return [];
  const dir = mkdtempSync(join(tmpdir(), 'chart-rules-'));
  try {
    return rules.flatMap((rule) => {
      const file = join(dir, `${nameOf(rule)}.yml`);
      writeFileSync(file, stringifyYaml({ groups: (rule.spec as Json).groups }));
      const r = promtool(['check', 'rules', file]);
      return r.status === 0 ? [] : [`PrometheusRule ${nameOf(rule)}: promtool check rules: ${r.output}`];
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Renders, expecting success, and checks every object; returns the objects.
 * With helm-render, renders with missingkey=error too (as `helm lint --strict`
 * does), so that no template reads a key that may be absent.
 */
async function renderValid(args: readonly string[], release = 'test'): Promise<Manifest[]> {
  const objects = render(args, release);
  const strict = tool().strictTemplate?.(release, CHART_DIR, args);
  if (strict !== undefined) expect(strict.status, `with missingkey=error: ${strict.output}`).toBe(0);
  expect(objects.length).toBeGreaterThan(0);
  expect([...(await manifestErrors(objects)), ...chartErrors(objects), ...ruleErrors(objects)]).toEqual([]);
  return objects;
}

/**
 * The arguments of `helm template` for a README command line (`helm install`,
 * `helm upgrade --install`, `helm template`), and its release name.
 */
function templateArgs(words: readonly string[]): { release: string; args: string[] } {
  const passed = new Set([
    '--set',
    '--set-string',
    '--set-json',
    '--set-file',
    '--set-literal',
    '-f',
    '--values',
    '-n',
    '--namespace',
    '--kube-version',
    '-a',
    '--api-versions',
  ]);
  const dropped = new Set([
    '--timeout',
    '--version',
    '--description',
    '--wait',
    '--atomic',
    '--create-namespace',
    '--install',
    '--dry-run',
    '--debug',
    '--wait-for-jobs',
    '--reset-values',
    '--reuse-values',
  ]);
  const takesValue = new Set(['--timeout', '--version', '--description']);
  const positional: string[] = [];
  const args: string[] = [];
  for (let i = 2; i < words.length; i++) {
    const w = words[i] as string;
    const [flag, inline] =
      w.startsWith('-') && w.includes('=') ? [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)] : [w, undefined];
    if (passed.has(flag)) {
      const value = inline ?? words[++i];
      if (value === undefined) throw new Error(`${flag} without a value in: ${words.join(' ')}`);
      args.push(flag, flag === '-f' || flag === '--values' ? join(ROOT, value) : value);
    } else if (dropped.has(flag)) {
      if (takesValue.has(flag) && inline === undefined) i++;
    } else if (w.startsWith('-')) {
      throw new Error(`a flag this test does not know, in the README: ${w} (add it to templateArgs)`);
    } else {
      positional.push(w);
    }
  }
  const chart = positional[positional.length - 1];
  if (chart !== './helm/mistral-admin-exporter' && chart !== 'helm/mistral-admin-exporter')
    throw new Error(`a README command for another chart: ${words.join(' ')}`);
  return { release: positional.length > 1 ? (positional[0] as string) : 'release-name', args };
}

/** The ```yaml blocks of the README: values examples. */
const README_VALUES = [...readChart('README.md').matchAll(/^```yaml\n([\s\S]*?)^```/gm)].map((m) => m[1] as string);

/** The `--set ...` spans of the README's text. */
const README_SETS = [...readChart('README.md').matchAll(/`(--set(?:-string|-json)? [^`]+)`/g)].map((m) =>
  shellWords((m[1] as string).replace(/\n/g, ' ')),
);

const README_COMMANDS = [...shellCommands(readChart('README.md')), ...shellCommands(readFileSync(join(ROOT, 'README.md'), 'utf8'))].filter(
  (w) => w[0] === 'helm' && ['install', 'upgrade', 'template'].includes(w[1] as string),
);

/** The settings that are `config.*` values: all but the secrets and the `_FILE` paths to them. */
const SECRET_ENVS = Object.values(SETTINGS)
  .filter((s: SettingDef<unknown>) => s.secret)
  .map((s) => s.env);
const CONFIG_SETTINGS = (Object.entries(SETTINGS) as Array<[string, SettingDef<unknown>]>).filter(
  // The web config's settings are set by the chart from its `web` values.
  ([, s]) => !s.secret && s.chartOwned === undefined && !SECRET_ENVS.some((env) => s.env === `${env}_FILE`),
);

function envText(value: unknown): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

type Rule = { alert?: string; record?: string; labels?: Record<string, string> };
function ruleList(objects: readonly Manifest[]): Array<Rule & { group: string }> {
  const rule = one(objects, 'PrometheusRule').spec as { groups: Array<{ name: string; rules: Rule[] }> };
  return rule.groups.flatMap((g) => g.rules.map((r) => ({ ...r, group: g.name })));
}

/**
 * What the exporter makes of an environment and arguments: null when it would
 * run, else why not (its ConfigError, or that it would print and exit).
 */
function exporterRefusal(env: Record<string, string>, argv: readonly string[]): string | null {
  try {
    const command = loadConfig({ argv, env, readFile: () => 'a-key-from-the-mounted-secret' });
    return command.kind === 'run' ? null : `it would print its ${command.kind} and exit`;
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
}

/** The container's environment (plain values) and arguments, as the exporter would get them. */
function exporterInput(objects: readonly Manifest[]): { env: Record<string, string>; argv: string[] } {
  const c = containerOf(objects);
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  return { env, argv: c.args ?? [] };
}

/** `--set-json` arguments for each config value. */
function configArgs(config: Json): string[] {
  return Object.entries(config).flatMap(([k, v]) => ['--set-json', `config.${k}=${JSON.stringify(v)}`]);
}

/** The variables the exporter would get for these config values (those the chart sets). */
function configEnv(config: Json): Record<string, string> {
  const env: Record<string, string> = { MISTRAL_ADMIN_API_KEY_FILE: '/etc/mistral-admin-exporter/api-key/api-key' };
  for (const [key, value] of Object.entries(config)) {
    const s = (SETTINGS as Record<string, SettingDef<unknown>>)[key];
    if (s === undefined) throw new Error(`not a setting: ${key}`);
    if (value !== null && envText(value) !== '') env[s.env] = envText(value);
  }
  return env;
}

/**
 * Config values, each accepted by the exporter or refused: the chart must
 * render the first and fail on the second (naming the value), never pass a
 * value the exporter refuses at start.
 */
const CONFIG_CASES: Array<[string, Json]> = [
  ['maxConcurrentRequests 0', { maxConcurrentRequests: 0 }],
  ['maxConcurrentRequests 1', { maxConcurrentRequests: 1 }],
  ['maxConcurrentRequests 64', { maxConcurrentRequests: 64 }],
  ['maxConcurrentRequests 65', { maxConcurrentRequests: 65 }],
  ['lechatUserLimit 1000001', { lechatUserLimit: 1_000_001 }],
  ['vibeToolLimit 0', { vibeToolLimit: 0 }],
  ['windows 1d,7d,30d as a list', { analyticsWindows: ['1d', '7d', '30d'] }],
  ['windows 48h,2w', { analyticsWindows: '48h,2w' }],
  ['a window of 36h', { analyticsWindows: '1d,36h' }],
  ['a window of 12h, as a list', { analyticsWindows: ['1d', '12h'] }],
  ['a window of 0d', { analyticsWindows: '0d' }],
  ['a window of 1440m', { analyticsWindows: '1440m' }],
  ['a window of 1.5d', { analyticsWindows: ['1.5d'] }],
  ['windows 1d and 24h (the same length)', { analyticsWindows: '1d,24h' }],
  ['windows 1d,1d (one window)', { analyticsWindows: '1d, 1d' }],
  ['windows "," (none)', { analyticsWindows: ',' }],
  ['windows "1d 7d" (no comma)', { analyticsWindows: '1d 7d' }],
  ['refreshInterval 999ms', { refreshInterval: '999ms' }],
  ['refreshInterval 1000ms', { refreshInterval: '1000ms' }],
  ['refreshInterval 0.5s', { refreshInterval: '0.5s' }],
  ['refreshInterval 1.5s', { refreshInterval: '1.5s' }],
  ['refreshIntervalUsage 500ms', { refreshIntervalUsage: '500ms' }],
  ['analyticsRefreshInterval 0s', { analyticsRefreshInterval: '0s' }],
  ['refreshInterval 30s1m (units out of order)', { refreshInterval: '30s1m' }],
  ['refreshInterval 1m1m (a unit twice)', { refreshInterval: '1m1m' }],
  ['refreshInterval 1h30m under maxStaleness 2h', { refreshInterval: '1h30m', maxStaleness: '2h' }],
  ['refreshInterval 1y', { refreshInterval: '1y' }],
  ['requestTimeout 0s', { requestTimeout: '0s' }],
  ['requestTimeout 1ms', { requestTimeout: '1ms' }],
  ['maxStaleness 0s', { maxStaleness: '0s' }],
  ['refreshInterval 2h, longer than the default staleness', { refreshInterval: '2h' }],
  ['refreshInterval 1h, as long as the default staleness', { refreshInterval: '1h' }],
  ['maxStaleness 10m, as long as the default analytics interval', { maxStaleness: '10m' }],
  ['maxStaleness 11m', { maxStaleness: '11m' }],
  ['refreshIntervalVibeByWorkspace 3h over maxStaleness 2h', { refreshIntervalVibeByWorkspace: '3h', maxStaleness: '2h' }],
  ['an interval over the staleness, for an endpoint not read', { endpoints: 'usage,spend_limit', analyticsRefreshInterval: '2h' }],
  ['maxResponseSize 1023 (bytes)', { maxResponseSize: '1023' }],
  ['maxResponseSize 1023 as a number', { maxResponseSize: 1023 }],
  ['maxResponseSize 1KiB', { maxResponseSize: '1KiB' }],
  ['maxResponseSize 1 kB (1000 bytes)', { maxResponseSize: '1 kB' }],
  ['maxResponseSize 0.5KiB', { maxResponseSize: '0.5KiB' }],
  ['maxResponseSize 1.5MiB', { maxResponseSize: '1.5MiB' }],
  ['maxResponseSize 32XB', { maxResponseSize: '32XB' }],
  ['endpoints all,usage', { endpoints: 'all,usage' }],
  ['endpoints [all, usage]', { endpoints: ['all', 'usage'] }],
  ['endpoints all,all', { endpoints: 'all,all' }],
  ['endpoints " usage , spend_limit "', { endpoints: ' usage , spend_limit ' }],
  ['endpoints usage,billing', { endpoints: 'usage,billing' }],
  ['endpoints ","', { endpoints: ',' }],
  ['apiUrl with a port and a trailing slash', { apiUrl: 'https://admin.example:8443/api/admin/' }],
  ['apiUrl over http, an IPv6 address', { apiUrl: 'http://[fd00::1]:8080/admin' }],
  ['apiUrl with credentials', { apiUrl: 'https://user:pw@api.mistral.ai/v1/admin' }],
  ['apiUrl with a query', { apiUrl: 'https://api.mistral.ai/v1/admin?x=1' }],
  ['apiUrl with a fragment', { apiUrl: 'https://api.mistral.ai/v1/admin#x' }],
  ['apiUrl over ftp', { apiUrl: 'ftp://api.mistral.ai/v1/admin' }],
  ['apiUrl with port 99999', { apiUrl: 'https://api.mistral.ai:99999/v1/admin' }],
  ['apiUrl with a space in the host', { apiUrl: 'https://api mistral.ai/v1/admin' }],
];

/** Values the exporter takes but the chart refuses, on purpose (the reason in each name). */
const STRICTER_CASES: Array<[string, Json]> = [
  ['port 0: the probes and the Service need a fixed port', { port: 0 }],
  ['apiUrl https:///v1/admin: the exporter would read it as host "v1"', { apiUrl: 'https:///v1/admin' }],
  ['apiUrl with port 0: no service listens there', { apiUrl: 'https://api.mistral.ai:0/v1/admin' }],
  ['logLevel INFO: the schema lists the levels as the exporter documents them', { logLevel: 'INFO' }],
  ['refreshInterval " 5m": the schema takes durations as written, without spaces', { refreshInterval: ' 5m' }],
];

// ---------------------------------------------------------------------------

describe('the object checks (test/support/k8s.ts) catch what they are for', () => {
  const deployment = (container: Json): Manifest => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x' },
    spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [container] } } },
  });

  it('a valid object passes', async () => {
    expect(await manifestErrors([deployment({ name: 'c', image: 'i', ports: [{ containerPort: 80 }] })])).toEqual([]);
  });

  it.each([
    [
      'a kind without a model',
      { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'x' } },
      /no model of example\.com\/v1 Widget/,
    ],
    ['a schema violation', deployment({ name: 'c', image: 'i', ports: [{ containerPort: '80' }] }), /containerPort must be integer/],
    ['a bad name', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Not_A_Name' } }, /not a DNS subdomain/],
    ['a Service name starting with a digit', { apiVersion: 'v1', kind: 'Service', metadata: { name: '1st' }, spec: {} }, /DNS-1035/],
    ['a bad label value', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', labels: { a: 'b c' } } }, /bad value/],
    [
      'a bad pod label',
      {
        ...deployment({ name: 'c', image: 'i' }),
        spec: {
          selector: { matchLabels: { a: 'b' } },
          template: { metadata: { labels: { 'a b': 'c' } }, spec: { containers: [{ name: 'c' }] } },
        },
      },
      /spec\.template\.metadata\.labels/,
    ],
    [
      'a scrapeTimeout longer than the interval',
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name: 'x' },
        spec: { selector: {}, endpoints: [{ port: 'http', interval: '15s', scrapeTimeout: '30s' }] },
      },
      /scrapeTimeout 30s is longer than the interval 15s/,
    ],
  ] as const)('%s', async (_what, object, message) => {
    const errors = await manifestErrors([object as Manifest]);
    expect(errors.join('\n')).toMatch(message);
  });
});

describe.runIf(RUN)(`the chart rendered (${FOUND.tool?.name ?? 'no tool'})`, () => {
  it('helm or helm-render works', () => {
    expect(FOUND.tool, FOUND.why).toBeDefined();
  });

  it('the defaults with a Secret for the key: a Deployment and a Service, valid', async () => {
    const objects = await renderValid(KEY);
    expect(objects.map((o) => o.kind).sort()).toEqual(['Deployment', 'Service']);
  });

  it('without a key the render fails, saying to set existingSecret.name or apiKey.value', () => {
    const out = renderFails([]);
    expect(out).toContain('existingSecret.name');
    expect(out).toContain('apiKey.value');
  });

  it('the schema is enforced (a string port)', () => {
    expect(renderFails(['--set', 'demo=true', '--set-string', 'config.port=10460'])).toMatch(/config\.port|port/);
  });

  it.each(CI_FILES)('ci/%s renders, every object valid', async (file) => {
    await renderValid(['--values', ciFile(file)]);
  });

  it.each(CI_FILES)('helm lint --strict passes with ci/%s', (file) => {
    const r = tool().lint(CHART_DIR, ['--values', ciFile(file)]);
    expect(r.status, r.output).toBe(0);
    expect(r.output).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  it.runIf(FOUND.tool?.strictTemplate !== undefined).each(CI_FILES)(
    'ci/%s renders with missingkey=error (what helm lint --strict also does)',
    (file) => {
      const r = (tool().strictTemplate as NonNullable<ChartTool['strictTemplate']>)('test', CHART_DIR, ['--values', ciFile(file)]);
      expect(r.status, r.output).toBe(0);
    },
  );

  it("the README's helm commands are found", () => {
    expect(README_COMMANDS.length).toBeGreaterThanOrEqual(2);
    expect(README_SETS.length).toBeGreaterThanOrEqual(3);
    expect(README_VALUES.length).toBeGreaterThanOrEqual(1);
    expect(README_COMMANDS.some((w) => w.includes('--set'))).toBe(true);
  });

  it.each(README_COMMANDS.map((w) => [w.join(' '), w] as const))('README: %s renders, every object valid', async (_line, words) => {
    const { release, args } = templateArgs(words);
    await renderValid(args, release);
  });

  it.each(README_SETS.map((w) => [w.join(' '), w] as const))(
    'README, in the text: %s renders, every object valid',
    async (_line, words) => {
      await renderValid([...KEY, ...words]);
    },
  );

  it.each(README_VALUES.map((v, i) => [i + 1, v] as const))('README: values example %i renders, every object valid', async (_n, values) => {
    const dir = mkdtempSync(join(tmpdir(), 'chart-readme-'));
    try {
      const file = join(dir, 'values.yaml');
      writeFileSync(file, values);
      // An example of organizations names each one's key; the top-level key is refused beside them.
      const keyed = ((parseYaml(values) ?? {}) as Json).organizations === undefined;
      await renderValid([...(keyed ? KEY : []), '--values', file]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with an existing Secret: the key is a mounted file, nothing else is made', async () => {
    const objects = await renderValid(['--values', ciFile('existing-secret-values.yaml')]);
    expect(objects.map((o) => o.kind).sort()).toEqual(['Deployment', 'Service']);
    const c = containerOf(objects);
    expect(c.env).toContainEqual({ name: 'MISTRAL_ADMIN_API_KEY_FILE', value: '/etc/mistral-admin-exporter/api-key/api-key' });
    expect((c.env ?? []).map((e) => e.name)).not.toContain('MISTRAL_ADMIN_API_KEY');
    expect(c.args).toBeUndefined();
    const volume = (podOf(objects).spec.volumes ?? []).find((v) => v.name === 'api-key');
    expect(volume?.secret?.secretName).toBe('mistral-admin-api');
  });

  it('demo mode: --demo, no key, no Secret', async () => {
    const objects = await renderValid(['--values', ciFile('demo-values.yaml')]);
    expect(objects.map((o) => o.kind)).not.toContain('Secret');
    const c = containerOf(objects);
    expect(c.args).toEqual(['--demo']);
    expect(JSON.stringify(c)).not.toContain('MISTRAL_ADMIN_API_KEY');
  });

  it('all features: every block renders, every config value becomes its variable', async () => {
    const objects = await renderValid(['--values', ciFile('all-features-values.yaml')]);
    const kinds = objects.map((o) => o.kind);
    for (const kind of ['Deployment', 'Service', 'Secret', 'ServiceMonitor', 'PrometheusRule', 'NetworkPolicy', 'PodDisruptionBudget'])
      expect(kinds).toContain(kind);
    const dashboards = readdirSync(DASHBOARDS_COPY).filter((f) => f.endsWith('.json'));
    const maps = ofKind(objects, 'ConfigMap');
    expect(maps.length).toBe(dashboards.length);
    for (const m of maps) expect(metadata(m).labels).toMatchObject({ grafana_dashboard: '1' });

    const env = new Map((containerOf(objects).env ?? []).map((e) => [e.name, e.value]));
    const config = (parseYaml(readChart('ci/all-features-values.yaml')) as Json).config as Json;
    for (const [key, s] of CONFIG_SETTINGS) {
      expect(env.get(s.env), s.env).toBe(envText(config[key]));
      expect(() => s.parse(env.get(s.env) as string)).not.toThrow();
    }

    // Alerts and recording rules alike, by name.
    const rendered = ruleList(objects).map((r) => r.alert ?? r.record);
    const file = parseYaml(readFileSync(ALERTS_COPY, 'utf8')) as { groups: Array<{ rules: Rule[] }> };
    for (const r of file.groups.flatMap((g) => g.rules)) expect(rendered).toContain(r.alert ?? r.record);
    expect(rendered).toContain('MistralSpendOverTenThousand');
  });

  it('prometheusRule.disabledAlerts leaves an alert out; an unknown name fails', async () => {
    const file = parseYaml(readFileSync(ALERTS_COPY, 'utf8')) as { groups: Array<{ rules: Rule[] }> };
    const first = file.groups.flatMap((g) => g.rules).find((r) => r.alert)?.alert as string;
    const base = ['--set', 'demo=true', '--set', 'prometheusRule.enabled=true'];
    const objects = await renderValid([...base, '--set', `prometheusRule.disabledAlerts={${first}}`]);
    expect(ruleList(objects).map((r) => r.alert)).not.toContain(first);
    expect(renderFails([...base, '--set', 'prometheusRule.disabledAlerts={NoSuchAlert}'])).toContain('NoSuchAlert');
  });

  describe('names', () => {
    const dashboards = readdirSync(DASHBOARDS_COPY)
      .filter((f) => f.endsWith('.json'))
      .map((f) =>
        f
          .replace(/\.json$/, '')
          .toLowerCase()
          .replace(/_/g, '-'),
      );

    it.each([
      ['a long release name', 'mistral-exporter-finops-prod-eu', []],
      ['the longest release name helm allows (53)', `mistral-${'x'.repeat(42)}-eu`, []],
      ['a 63-character fullnameOverride', 'test', ['--set', `fullnameOverride=${'f'.repeat(63)}`]],
    ] as const)('%s: one ConfigMap per dashboard, each named apart, at most 63 characters', async (_what, release, extra) => {
      const objects = await renderValid([...KEY, '--set', 'grafanaDashboards.enabled=true', ...extra], release);
      const names = ofKind(objects, 'ConfigMap').map(nameOf);
      expect(names).toHaveLength(dashboards.length);
      expect(new Set(names).size).toBe(names.length);
      for (const d of dashboards)
        expect(
          names.filter((n) => n.endsWith(`-${d}`)),
          d,
        ).toHaveLength(1);
      for (const n of names) expect(n.length).toBeLessThanOrEqual(63);
    });
  });

  describe('the ServiceMonitor', () => {
    const SM = ['--set', 'demo=true', '--set', 'serviceMonitor.enabled=true'];
    const endpoint = (objects: readonly Manifest[]): Json => ((one(objects, 'ServiceMonitor').spec as Json).endpoints as Json[])[0] as Json;

    it('serviceMonitor.interval=15s alone: no scrapeTimeout longer than the interval', async () => {
      const e = endpoint(await renderValid([...SM, '--set', 'serviceMonitor.interval=15s']));
      expect(e.interval).toBe('15s');
      // Unset, Prometheus' timeout applies, which it caps at the interval.
      expect(e.scrapeTimeout).toBeUndefined();
    });

    it.each([
      ['a timeout as long as the interval', '1m', '60s'],
      ['a shorter timeout', '2m', '1m30s'],
    ])('%s renders', async (_what, interval, timeout) => {
      const e = endpoint(
        await renderValid([...SM, '--set', `serviceMonitor.interval=${interval}`, '--set', `serviceMonitor.scrapeTimeout=${timeout}`]),
      );
      expect(e).toMatchObject({ interval, scrapeTimeout: timeout });
    });

    it.each([
      [
        'a timeout longer than the interval',
        ['interval=15s', 'scrapeTimeout=30s'],
        /serviceMonitor\.scrapeTimeout.*30s.*serviceMonitor\.interval.*15s/,
      ],
      ['a timeout without an interval', ['interval=', 'scrapeTimeout=10s'], /serviceMonitor\.scrapeTimeout.*serviceMonitor\.interval/],
      ['an interval of 0s', ['interval=0s'], /serviceMonitor\.interval/],
      ['units out of order', ['interval=30s1m'], /serviceMonitor\.interval/],
    ])('%s fails the render, naming the values', (_what, sets, message) => {
      expect(renderFails([...SM, ...sets.flatMap((s) => ['--set', `serviceMonitor.${s}`])])).toMatch(message);
    });
  });

  describe('TLS and authentication on the listener (web)', () => {
    const HASH = '$2y$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG';
    const SM_AUTH = [
      'serviceMonitor.enabled=true',
      'serviceMonitor.basicAuth.username.name=scrape',
      'serviceMonitor.basicAuth.username.key=username',
      'serviceMonitor.basicAuth.password.name=scrape',
      'serviceMonitor.basicAuth.password.key=password',
    ].flatMap((v) => ['--set', v]);
    const TLS = ['--set', 'web.tls.enabled=true', '--set', 'web.tls.secretName=exporter-tls'];
    const USERS = ['--set-string', `web.basicAuth.users.prometheus=${HASH}`];
    type Probe = { httpGet: { scheme?: string; path: string } };
    const probes = (objects: readonly Manifest[]): Array<string | undefined> => {
      const c = containerOf(objects) as Container & { livenessProbe: Probe; readinessProbe: Probe };
      return [c.livenessProbe.httpGet.scheme, c.readinessProbe.httpGet.scheme];
    };
    const smEndpoint = (objects: readonly Manifest[]): Json =>
      ((one(objects, 'ServiceMonitor').spec as Json).endpoints as Json[])[0] as Json;
    const webConfigText = (objects: readonly Manifest[]): string => {
      const secret = ofKind(objects, 'Secret').find((o) => nameOf(o).endsWith('-web-config'));
      return ((secret?.stringData ?? {}) as Json)['web-config.yml'] as string;
    };

    it('off by default: plain HTTP probes and scrapes, no web config', async () => {
      const objects = await renderValid([...KEY, '--set', 'serviceMonitor.enabled=true']);
      expect(probes(objects)).toEqual(['HTTP', 'HTTP']);
      expect(smEndpoint(objects).scheme).toBe('http');
      expect(smEndpoint(objects).tlsConfig).toBeUndefined();
      expect(JSON.stringify(containerOf(objects).env)).not.toContain('WEB_CONFIG_FILE');
      expect(ofKind(objects, 'Secret')).toEqual([]);
    });

    it('TLS and basic auth: HTTPS probes left open, a web config the exporter reads, a ServiceMonitor with scheme, CA and basicAuth', async () => {
      const objects = await renderValid([...KEY, ...TLS, ...USERS, ...SM_AUTH]);
      expect(probes(objects)).toEqual(['HTTPS', 'HTTPS']);
      const c = containerOf(objects);
      expect(c.env).toContainEqual({ name: 'WEB_CONFIG_FILE', value: '/etc/mistral-admin-exporter/web/web-config.yml' });
      expect(c.env).toContainEqual({ name: 'WEB_OPEN_PROBES', value: 'true' });
      // Whole directories, never subPath: the kubelet updates them in place, for the exporter to re-read.
      expect(c.volumeMounts).toEqual(
        expect.arrayContaining([
          { name: 'web-config', mountPath: '/etc/mistral-admin-exporter/web', readOnly: true },
          { name: 'web-tls', mountPath: '/etc/mistral-admin-exporter/tls', readOnly: true },
        ]),
      );
      expect(JSON.stringify(c.volumeMounts)).not.toContain('subPath');
      const volumes = podOf(objects).spec.volumes ?? [];
      expect(volumes.find((v) => v.name === 'web-tls')?.secret?.secretName).toBe('exporter-tls');

      const e = smEndpoint(objects);
      expect(e.scheme).toBe('https');
      expect(e.tlsConfig).toEqual({
        ca: { secret: { name: 'exporter-tls', key: 'ca.crt' } },
        serverName: 'test-mistral-admin-exporter.default.svc',
      });
      expect(e.basicAuth).toEqual({ username: { name: 'scrape', key: 'username' }, password: { name: 'scrape', key: 'password' } });

      // The web config, read by the exporter's own parser with a certificate where the chart mounts it.
      const pki = makePki();
      try {
        const cert = pki.issue('server', 'exporter', 'DNS:test-mistral-admin-exporter.default.svc');
        const files: Record<string, string> = {
          '/etc/mistral-admin-exporter/web/web-config.yml': webConfigText(objects),
          '/etc/mistral-admin-exporter/tls/tls.crt': readFileSync(cert.cert, 'utf8'),
          '/etc/mistral-admin-exporter/tls/tls.key': readFileSync(cert.key, 'utf8'),
        };
        const web = loadWebConfig('/etc/mistral-admin-exporter/web/web-config.yml', (path) => {
          if (files[path] === undefined) throw Object.assign(new Error(path), { code: 'ENOENT' });
          return files[path];
        });
        expect(web.tls?.clientAuth).toBe('NoClientCert');
        expect(web.tls?.context.minVersion).toBe('TLSv1.2');
        expect([...web.users.entries()]).toEqual([['prometheus', HASH]]);
      } finally {
        rmSync(pki.dir, { recursive: true, force: true });
      }
    });

    it('client certificates: the CA is ca.crt of the TLS Secret, and the ServiceMonitor must give a certificate', async () => {
      const objects = await renderValid(['--values', ciFile('web-tls-values.yaml')]);
      const text = webConfigText(objects);
      const parsed = parseYaml(text) as { tls_server_config: Json };
      expect(parsed.tls_server_config).toMatchObject({
        client_auth_type: 'RequireAndVerifyClientCert',
        client_ca_file: '/etc/mistral-admin-exporter/tls/ca.crt',
        min_version: 'TLS13',
      });
      expect((smEndpoint(objects).tlsConfig as Json).keySecret).toEqual({ name: 'prometheus-scrape-client', key: 'tls.key' });
      expect(
        renderFails([...KEY, ...TLS, '--set', 'web.tls.clientAuthType=RequireAndVerifyClientCert', '--set', 'serviceMonitor.enabled=true']),
      ).toMatch(/web\.tls\.clientAuthType=RequireAndVerifyClientCert requires a client certificate.*serviceMonitor\.tlsConfig/);
    });

    it('a web config of your own (web.existingSecret): mounted as it is, no Secret made', async () => {
      const objects = await renderValid([
        ...KEY,
        ...TLS,
        '--set',
        'web.existingSecret.name=my-web',
        '--set',
        'web.existingSecret.key=web.yml',
      ]);
      expect(ofKind(objects, 'Secret')).toEqual([]);
      expect(containerOf(objects).env).toContainEqual({ name: 'WEB_CONFIG_FILE', value: '/etc/mistral-admin-exporter/web/web.yml' });
      expect((podOf(objects).spec.volumes ?? []).find((v) => v.name === 'web-config')?.secret?.secretName).toBe('my-web');
    });

    it('a bearer token from a Secret: mounted as WEB_BEARER_TOKEN_FILE, given to the ServiceMonitor as authorization', async () => {
      const objects = await renderValid([
        ...KEY,
        ...TLS,
        ...['web.bearerToken.existingSecret.name=scrape-token', 'serviceMonitor.enabled=true'].flatMap((v) => ['--set', v]),
        ...['serviceMonitor.authorization.type=Bearer', 'serviceMonitor.authorization.credentials.name=scrape-token'].flatMap((v) => [
          '--set',
          v,
        ]),
        ...['--set', 'serviceMonitor.authorization.credentials.key=token'],
      ]);
      const c = containerOf(objects);
      expect(c.env).toContainEqual({ name: 'WEB_BEARER_TOKEN_FILE', value: '/etc/mistral-admin-exporter/bearer-token/token' });
      expect(c.volumeMounts).toContainEqual({
        name: 'web-bearer-token',
        mountPath: '/etc/mistral-admin-exporter/bearer-token',
        readOnly: true,
      });
      expect((podOf(objects).spec.volumes ?? []).find((v) => v.name === 'web-bearer-token')?.secret?.secretName).toBe('scrape-token');
      expect(smEndpoint(objects).authorization).toEqual({ type: 'Bearer', credentials: { name: 'scrape-token', key: 'token' } });
      expect(
        renderFails([...KEY, '--set', 'web.bearerToken.existingSecret.name=scrape-token', '--set', 'serviceMonitor.enabled=true']),
      ).toMatch(/serviceMonitor\.authorization is not: Prometheus would get 401/);
    });

    it('web.openProbes=false: the exporter is told so (the probes then need what everything else needs)', async () => {
      const objects = await renderValid([...KEY, ...TLS, '--set', 'web.openProbes=false']);
      expect(containerOf(objects).env).toContainEqual({ name: 'WEB_OPEN_PROBES', value: 'false' });
    });

    it.each<[string, string[], RegExp]>([
      ['TLS without its Secret', ['--set', 'web.tls.enabled=true'], /web\.tls\.enabled needs web\.tls\.secretName/],
      ['client certificates without TLS', ['--set', 'web.tls.clientAuthType=RequireAnyClientCert'], /needs web\.tls\.enabled/],
      [
        'users but a ServiceMonitor without basicAuth',
        [...USERS, '--set', 'serviceMonitor.enabled=true'],
        /serviceMonitor\.basicAuth is not: Prometheus would get 401/,
      ],
      [
        'WEB_CONFIG_FILE in extraEnv',
        ['--set', 'extraEnv[0].name=WEB_CONFIG_FILE', '--set', 'extraEnv[0].value=/x'],
        /extraEnv WEB_CONFIG_FILE.*web\.tls/,
      ],
      ['--web.config.file in extraArgs', ['--set', 'extraArgs[0]=--web.config.file=/x'], /extraArgs --web\.config\.file.*web\.tls/],
      ['a password in place of a hash', ['--set', 'web.basicAuth.users.prometheus=hunter2'], /basicAuth|pattern|does not match/],
    ])('%s fails the render, saying what to set', (_what, args, message) => {
      expect(renderFails([...KEY, ...args])).toMatch(message);
    });
  });

  describe('config values: refused by the chart exactly when the exporter refuses them', () => {
    it.each(CONFIG_CASES)('%s', (_what, config) => {
      const refusal = exporterRefusal(configEnv(config), []);
      const r = template([...KEY, ...configArgs(config)]);
      if (refusal === null) {
        expect(r.status, `the exporter accepts ${JSON.stringify(config)}, the chart should too:\n${r.output}`).toBe(0);
        const input = exporterInput(parseManifests(r.stdout));
        expect(exporterRefusal(input.env, input.argv)).toBeNull();
      } else {
        expect(r.status, `the exporter refuses ${JSON.stringify(config)} (${refusal}); the chart rendered it`).not.toBe(0);
        const named = Object.keys(config).some((k) => r.stderr.includes(`config.${k}`));
        expect(named, `the message names the value: ${r.stderr}`).toBe(true);
        // The templates refuse it too, not only the schema.
        const unchecked = template([...KEY, '--skip-schema-validation', ...configArgs(config)]);
        expect(unchecked.status, `without the schema, the templates rendered ${JSON.stringify(config)}`).not.toBe(0);
        expect(
          Object.keys(config).some((k) => unchecked.stderr.includes(`config.${k}`)),
          unchecked.stderr,
        ).toBe(true);
      }
    });

    it.each(STRICTER_CASES)('stricter than the exporter: %s', (_what, config) => {
      expect(exporterRefusal(configEnv(config), [])).toBeNull();
      const out = renderFails([...KEY, ...configArgs(config)]);
      expect(
        Object.keys(config).some((k) => out.includes(`config.${k}`)),
        out,
      ).toBe(true);
    });

    it.each(CI_FILES)('ci/%s: the exporter starts with what the chart renders', (file) => {
      const input = exporterInput(render(['--values', ciFile(file)]));
      expect(exporterRefusal(input.env, input.argv)).toBeNull();
    });
  });

  describe('several organizations (organizations)', () => {
    const FILE_PATH = '/etc/mistral-admin-exporter/config/organizations.yaml';
    const TWO = [
      {
        name: 'acme-prod',
        existingSecret: { name: 'mistral-acme-prod' },
        settings: { MISTRAL_WORKSPACE_IDS: 'all', REFRESH_INTERVAL_USAGE: '10m' },
      },
      {
        name: 'acme-labs',
        existingSecret: { name: 'mistral-acme-labs', key: 'admin-key' },
        settings: { MAX_CONCURRENT_REQUESTS: 2, LECHAT_USER_METRICS: true, ANALYTICS_WINDOWS: ['1d', '7d'] },
      },
    ];
    const orgs = (list: unknown): string[] => ['--set-json', `organizations=${JSON.stringify(list)}`];

    interface Volume {
      name: string;
      configMap?: { name: string };
      secret?: { secretName: string; items?: Array<{ key: string; path: string }> };
      projected?: { sources: Array<{ secret?: { name: string; items?: Array<{ key: string; path: string }> } }> };
    }

    /**
     * Where a file the container reads comes from, as the kubelet would lay it
     * out: the mount whose path holds it, its volume, and the ConfigMap's or
     * Secret's key at the rest of the path.
     */
    function fileSource(objects: readonly Manifest[], path: string): { kind: 'ConfigMap' | 'Secret'; name: string; key: string } {
      const c = containerOf(objects);
      const mount = (c.volumeMounts ?? []).find((m) => path.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
      if (mount === undefined) throw new Error(`nothing is mounted where ${path} is`);
      expect((mount as { readOnly?: boolean }).readOnly, `${mount.name} is mounted read-only`).toBe(true);
      const rest = path.slice(mount.mountPath.replace(/\/$/, '').length + 1);
      const volume = (podOf(objects).spec.volumes as Volume[] | undefined)?.find((v) => v.name === mount.name);
      if (volume?.configMap) return { kind: 'ConfigMap', name: volume.configMap.name, key: rest };
      const secrets = volume?.projected
        ? volume.projected.sources.flatMap((s) => (s.secret ? [s.secret] : []))
        : volume?.secret
          ? [{ name: volume.secret.secretName, items: volume.secret.items }]
          : [];
      for (const secret of secrets) {
        const item = (secret.items ?? []).find((i) => i.path === rest);
        if (item) return { kind: 'Secret', name: secret.name, key: item.key };
      }
      throw new Error(`volume ${mount.name} holds no file ${rest}`);
    }

    /** The organizations file the exporter reads: the file --config.file names, from where it is mounted. */
    function organizationsFile(objects: readonly Manifest[]): Array<Record<string, unknown>> {
      const flag = (containerOf(objects).args ?? []).find((a) => a.startsWith('--config.file='));
      expect(flag, 'the container is given --config.file').toBeDefined();
      const source = fileSource(objects, (flag as string).slice('--config.file='.length));
      expect(source.kind).toBe('ConfigMap');
      const map = ofKind(objects, 'ConfigMap').find((m) => nameOf(m) === source.name);
      const text = ((map?.data ?? {}) as Record<string, string>)[source.key];
      expect(text, `ConfigMap ${source.name} holds ${source.key}`).toBeTypeOf('string');
      const parsed = parseYaml(text as string) as { organizations: Array<Record<string, unknown>> };
      expect(Object.keys(parsed)).toEqual(['organizations']);
      return parsed.organizations;
    }

    it('two organizations: a file listing both, each key mounted from its Secret where the file names it, --config.file', async () => {
      const objects = await renderValid([...orgs(TWO), '--set', 'config.refreshInterval=2m']);
      expect(objects.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'Service']);
      const c = containerOf(objects);
      expect(c.args).toEqual([`--config.file=${FILE_PATH}`]);

      const entries = organizationsFile(objects);
      expect(entries).toEqual([
        {
          name: 'acme-prod',
          MISTRAL_ADMIN_API_KEY_FILE: '/etc/mistral-admin-exporter/organizations/acme-prod/api-key',
          MISTRAL_WORKSPACE_IDS: 'all',
          REFRESH_INTERVAL_USAGE: '10m',
        },
        {
          name: 'acme-labs',
          MISTRAL_ADMIN_API_KEY_FILE: '/etc/mistral-admin-exporter/organizations/acme-labs/api-key',
          MAX_CONCURRENT_REQUESTS: '2',
          LECHAT_USER_METRICS: 'true',
          ANALYTICS_WINDOWS: '1d,7d',
        },
      ]);
      // Each value as the exporter's own parser of that setting reads it.
      const byEnv = new Map(Object.values(SETTINGS).map((s: SettingDef<unknown>) => [s.env, s]));
      for (const entry of entries)
        for (const [env, value] of Object.entries(entry)) {
          if (env === 'name' || env === 'MISTRAL_ADMIN_API_KEY_FILE') continue;
          expect(() => byEnv.get(env)?.parse(value as string), `${env}=${String(value)}`).not.toThrow();
        }

      // Each key file is the organization's Secret's key, mounted read-only.
      expect(fileSource(objects, entries[0]?.MISTRAL_ADMIN_API_KEY_FILE as string)).toEqual({
        kind: 'Secret',
        name: 'mistral-acme-prod',
        key: 'api-key',
      });
      expect(fileSource(objects, entries[1]?.MISTRAL_ADMIN_API_KEY_FILE as string)).toEqual({
        kind: 'Secret',
        name: 'mistral-acme-labs',
        key: 'admin-key',
      });

      // No top-level key: neither its variable nor its volume; config still becomes the environment.
      expect((c.env ?? []).map((e) => e.name)).toEqual(['REFRESH_INTERVAL']);
      expect((podOf(objects).spec.volumes ?? []).map((v) => v.name)).not.toContain('api-key');
      const annotations = (((one(objects, 'Deployment').spec as Json).template as Json).metadata as Json).annotations as Json;
      expect(annotations['checksum/organizations'], 'a changed file restarts the pod').toMatch(/^[0-9a-f]{64}$/);

      // The exporter starts with what the chart renders: its own loading of the file, each file read from where it is mounted.
      const map = ofKind(objects, 'ConfigMap')[0] as Manifest;
      const readFile = (path: string): string => {
        const source = fileSource(objects, path);
        if (source.kind === 'ConfigMap') return ((map.data ?? {}) as Record<string, string>)[source.key] as string;
        return `key-of-${source.name}`;
      };
      const input = exporterInput(objects);
      const command = loadConfig({ argv: input.argv, env: input.env, readFile });
      if (command.kind !== 'run') throw new Error(`the exporter would ${command.kind}`);
      const started = (command.organizations ?? []).map((o) => ({
        name: o.name,
        key: o.config.apiKey?.reveal(),
        usage: o.config.refreshIntervalsMs.usage,
        spendLimit: o.config.refreshIntervalsMs.spend_limit,
        workspaces: o.config.workspaceIds,
        concurrency: o.config.maxConcurrentRequests,
        windows: o.config.analytics.windows.map((w) => w.label),
      }));
      expect(started).toEqual([
        {
          name: 'acme-prod',
          key: 'key-of-mistral-acme-prod',
          usage: 600_000,
          spendLimit: 120_000,
          workspaces: 'all',
          concurrency: 4,
          windows: ['1d', '7d', '30d'],
        },
        {
          name: 'acme-labs',
          key: 'key-of-mistral-acme-labs',
          usage: 120_000,
          spendLimit: 120_000,
          workspaces: [],
          concurrency: 2,
          windows: ['1d', '7d'],
        },
      ]);
    });

    it('a key given as apiKey.value: in the chart’s Secret, mounted where the file names it', async () => {
      const objects = await renderValid(orgs([...TWO, { name: 'side.project', apiKey: { value: 'the-side-key\n' } }]));
      const entry = organizationsFile(objects).find((e) => e.name === 'side.project');
      const source = fileSource(objects, entry?.MISTRAL_ADMIN_API_KEY_FILE as string);
      const secret = one(objects, 'Secret');
      expect(source).toMatchObject({ kind: 'Secret', name: nameOf(secret) });
      expect(Buffer.from((secret.data as Record<string, string>)[source.key] as string, 'base64').toString()).toBe('the-side-key');
      expect(Object.keys(secret.data as Json)).toEqual([source.key]);
    });

    it('demo mode: --demo and --config.file, one simulated organization per entry, no key asked or mounted', async () => {
      const objects = await renderValid([
        '--set',
        'demo=true',
        ...orgs([{ name: 'demo-a' }, { name: 'demo-b', settings: { MISTRAL_WORKSPACE_IDS: 'all' } }]),
      ]);
      expect(containerOf(objects).args).toEqual(['--demo', `--config.file=${FILE_PATH}`]);
      expect(organizationsFile(objects)).toEqual([{ name: 'demo-a' }, { name: 'demo-b', MISTRAL_WORKSPACE_IDS: 'all' }]);
      expect(JSON.stringify(podOf(objects).spec)).not.toMatch(/api-key|organization-keys/);
      expect(ofKind(objects, 'Secret')).toEqual([]);
    });

    const EXAMPLES = readdirSync(join(ROOT, 'helm', 'examples'))
      .filter((f) => f.endsWith('-values.yaml'))
      .sort();

    it.each(EXAMPLES)('helm/examples/%s (sharding, README): lint --strict passes; its organizations are its own', async (file) => {
      const path = join(ROOT, 'helm', 'examples', file);
      const r = tool().lint(CHART_DIR, ['--values', path]);
      expect(r.status, r.output).toBe(0);
      expect(r.output).not.toMatch(/\[(WARNING|ERROR)\]/);
      const names = organizationsFile(await renderValid(['--values', path])).map((e) => e.name);
      expect(names.length).toBeGreaterThan(0);
      // No organization in two shards (its series would be counted twice).
      for (const other of EXAMPLES.filter((f) => f !== file)) {
        const theirs = ((parseYaml(readFileSync(join(ROOT, 'helm', 'examples', other), 'utf8')) as Json).organizations ?? []) as Json[];
        for (const o of theirs) expect(names, `${String(o.name)} is in ${file} and ${other}`).not.toContain(o.name);
      }
    });

    it('without organizations (or with an empty list) the render is the single-organization one, unchanged', () => {
      const single = template(KEY);
      expect(single.status, single.output).toBe(0);
      const empty = template([...KEY, ...orgs([])]);
      expect(empty.stdout).toBe(single.stdout);
      const objects = parseManifests(single.stdout);
      expect(ofKind(objects, 'ConfigMap')).toEqual([]);
      expect(containerOf(objects).args).toBeUndefined();
      expect(containerOf(objects).env).toContainEqual({
        name: 'MISTRAL_ADMIN_API_KEY_FILE',
        value: '/etc/mistral-admin-exporter/api-key/api-key',
      });
    });

    it("the NetworkPolicy lets out each organization's Admin API port", async () => {
      const list = [
        TWO[0],
        { ...TWO[1], settings: { MISTRAL_ADMIN_API_URL: 'https://labs.example:8443/admin' } },
        { name: 'proxied', existingSecret: { name: 'p' }, settings: { MISTRAL_ADMIN_API_URL: 'http://proxy.internal/admin' } },
      ];
      const objects = await renderValid([...orgs(list), '--set', 'networkPolicy.enabled=true']);
      const egress = ((one(objects, 'NetworkPolicy').spec as Json).egress ?? []) as Array<{ ports?: Array<{ port: unknown }> }>;
      const ports = egress.flatMap((rule) => (rule.ports ?? []).map((p) => p.port)).filter((p) => p !== 53);
      expect(ports).toEqual([443, 8443, 80]);
    });

    const PAIR = [TWO[0], { name: 'acme-labs', existingSecret: { name: 'mistral-acme-labs' } }];
    const withSettings = (settings: Json): unknown[] => [{ ...TWO[0], settings }];
    it.each<[string, string[], RegExp]>([
      [
        'the top-level existingSecret too',
        [...orgs(PAIR), '--set', 'existingSecret.name=mistral-admin-api'],
        /organizations and the top-level key \(existingSecret\.name or apiKey\.value\) are both set/,
      ],
      ['the top-level apiKey too', [...orgs(PAIR), '--set', 'apiKey.value=k'], /organizations and the top-level key/],
      [
        'the top-level key too, in demo mode',
        [...orgs(PAIR), '--set', 'demo=true', '--set', 'existingSecret.name=s'],
        /organizations and the top-level key/,
      ],
      ['a name twice', orgs([TWO[0], { ...TWO[1], name: 'acme-prod' }]), /organizations\[1\]\.name="acme-prod": named twice/],
      ['a name with a space', orgs([{ ...TWO[0], name: 'acme prod' }]), /organizations\.0\.name|organizations\[0\]\.name/],
      ['a name starting with a dot', orgs([{ ...TWO[0], name: '.acme' }]), /organizations\.0\.name|organizations\[0\]\.name/],
      ['a name of 64 characters', orgs([{ ...TWO[0], name: 'a'.repeat(64) }]), /organizations\.0\.name|organizations\[0\]\.name/],
      ['no name', orgs([{ existingSecret: { name: 's' } }]), /name/],
      ['no key', orgs([{ name: 'acme-prod' }]), /organizations\[0\] "acme-prod": an Admin API key is required.*existingSecret\.name/],
      [
        'two keys',
        orgs([{ name: 'acme-prod', existingSecret: { name: 's' }, apiKey: { value: 'k' } }]),
        /organizations\[0\] "acme-prod": both existingSecret\.name and apiKey\.value are set/,
      ],
      ['a key with a space', orgs([{ name: 'acme-prod', apiKey: { value: 'k k' } }]), /organizations\[0\] "acme-prod": apiKey\.value/],
      ['PORT in settings', orgs(withSettings({ PORT: '9999' })), /settings\.PORT: a setting of the whole process.*config\.port/],
      ['HOST in settings', orgs(withSettings({ HOST: '::' })), /settings\.HOST: a setting of the whole process/],
      ['LOG_LEVEL in settings', orgs(withSettings({ LOG_LEVEL: 'debug' })), /settings\.LOG_LEVEL: a setting of the whole process/],
      ['an HTTP_ setting', orgs(withSettings({ HTTP_IDLE_TIMEOUT: '1m' })), /settings\.HTTP_IDLE_TIMEOUT: a setting of the whole process/],
      [
        'WEB_CONFIG_FILE in settings',
        orgs(withSettings({ WEB_CONFIG_FILE: '/x' })),
        /settings\.WEB_CONFIG_FILE: a setting of the whole process/,
      ],
      [
        'WEB_OPEN_PROBES in settings',
        orgs(withSettings({ WEB_OPEN_PROBES: true })),
        /settings\.WEB_OPEN_PROBES: a setting of the whole process/,
      ],
      [
        'a key file in settings',
        orgs(withSettings({ MISTRAL_ADMIN_API_KEY_FILE: '/x' })),
        /settings\.MISTRAL_ADMIN_API_KEY_FILE: the chart sets/,
      ],
      ['a key in settings', orgs(withSettings({ MISTRAL_ADMIN_API_KEY: 'k' })), /settings\.MISTRAL_ADMIN_API_KEY: the chart sets/],
      [
        'a hash key in settings',
        orgs(withSettings({ LECHAT_USER_ID_HASH_KEY: 'k' })),
        /settings\.LECHAT_USER_ID_HASH_KEY: a key must not be written/,
      ],
      [
        'CONFIG_FILE in settings',
        orgs(withSettings({ CONFIG_FILE: '/x' })),
        /settings\.CONFIG_FILE: the chart writes the organizations file/,
      ],
      [
        'a setting that is not one',
        orgs(withSettings({ REFRESH_INTERVALL: '1m' })),
        /settings\.REFRESH_INTERVALL is not a setting of the exporter/,
      ],
      [
        'a config key in place of the variable',
        orgs(withSettings({ refreshInterval: '1m' })),
        /settings\.refreshInterval is not a setting/,
      ],
      [
        'a value the exporter refuses',
        orgs(withSettings({ REFRESH_INTERVAL: '500ms' })),
        /organizations\[0\] "acme-prod": settings\.REFRESH_INTERVAL="500ms": must be at least 1s/,
      ],
      [
        'an unknown endpoint',
        orgs(withSettings({ MISTRAL_ENDPOINTS: 'usage,billing' })),
        /settings\.MISTRAL_ENDPOINTS="usage,billing": billing is not an endpoint/,
      ],
      [
        'an interval over the staleness, for one organization',
        orgs(withSettings({ REFRESH_INTERVAL_USAGE: '2h' })),
        /maxStaleness.*organizations\[0\] "acme-prod": settings\.REFRESH_INTERVAL_USAGE="2h"/,
      ],
      [
        '--config.file in extraArgs',
        [...orgs(PAIR), '--set', 'extraArgs[0]=--config.file=/x'],
        /extraArgs --config\.file: the chart writes the organizations file/,
      ],
      [
        'CONFIG_FILE in extraEnv',
        [...KEY, '--set', 'extraEnv[0].name=CONFIG_FILE', '--set', 'extraEnv[0].value=/x'],
        /extraEnv CONFIG_FILE: the chart writes/,
      ],
    ])('%s fails the render, saying what to do', (_what, args, message) => {
      expect(renderFails(args)).toMatch(message);
    });

    it.each<[string, unknown[], RegExp]>([
      ['a name with a space', [{ ...TWO[0], name: 'acme prod' }], /organizations\[0\]\.name="acme prod": an organization needs a name/],
      ['a null setting', withSettings({ REFRESH_INTERVAL: null }), /settings\.REFRESH_INTERVAL is null/],
      ['PORT in settings', withSettings({ PORT: 9999 }), /settings\.PORT: a setting of the whole process/],
      ['an entry that is not a map', ['acme-prod'], /organizations\[0\]: an organization is a map/],
      ['a name that is a number', [{ ...TWO[0], name: 2024 }], /organizations\[0\]\.name="2024": an organization needs a name/],
    ])('without the schema, the templates refuse %s too', (_what, list, message) => {
      expect(renderFails(['--skip-schema-validation', ...orgs(list)])).toMatch(message);
    });
  });

  describe('the PrometheusRule', () => {
    it("additionalRuleLabels go on every alert, extraRules' too; an alert's own label wins; recording rules keep theirs", async () => {
      const extraRules = [
        { alert: 'MistralExtraAlert', expr: 'vector(1) > 0', labels: { severity: 'info' } },
        { alert: 'MistralExtraOwnTeam', expr: 'vector(1) > 0', labels: { team: 'platform' } },
        { alert: 'MistralExtraNoLabels', expr: 'vector(1) > 0' },
        { record: 'mistral:extra:sum', expr: 'sum(mistral_up)' },
      ];
      const objects = await renderValid([
        '--set',
        'demo=true',
        '--set',
        'prometheusRule.enabled=true',
        '--set',
        'prometheusRule.additionalRuleLabels.team=finops',
        '--set-json',
        `prometheusRule.extraRules=${JSON.stringify(extraRules)}`,
      ]);
      const rules = ruleList(objects);
      const alerts = rules.filter((r) => r.alert);
      expect(alerts.length).toBeGreaterThan(extraRules.length);
      for (const a of alerts.filter((r) => r.alert !== 'MistralExtraOwnTeam')) expect(a.labels, a.alert).toMatchObject({ team: 'finops' });
      const byName = new Map(rules.map((r) => [r.alert ?? r.record, r]));
      expect(byName.get('MistralExtraAlert')?.labels).toEqual({ severity: 'info', team: 'finops' });
      expect(byName.get('MistralExtraOwnTeam')?.labels).toEqual({ team: 'platform' });
      expect(byName.get('mistral:extra:sum')?.labels).toBeUndefined();
    });
  });

  describe('the NetworkPolicy', () => {
    /** The ports of the egress rules other than DNS. */
    const apiPorts = (objects: readonly Manifest[]): unknown[] => {
      const egress = ((one(objects, 'NetworkPolicy').spec as Json).egress ?? []) as Array<{ ports?: Array<{ port: unknown }> }>;
      return egress.flatMap((rule) => (rule.ports ?? []).map((p) => p.port)).filter((p) => p !== 53);
    };

    it.each([
      ['the default URL', undefined, 443],
      ['https with a port', 'https://admin.example:8443/api/admin', 8443],
      ['plain http', 'http://mistral-proxy.internal/admin', 80],
      ['http with a port', 'http://mistral-proxy.internal:3128/admin', 3128],
      ['an IPv6 address with a port', 'http://[fd00::1]:8080/admin', 8080],
      ['https with its own port written out', 'https://api.mistral.ai:443/v1/admin', 443],
    ])('lets out the port of config.apiUrl: %s', async (_what, url, port) => {
      const objects = await renderValid([
        ...KEY,
        '--set',
        'networkPolicy.enabled=true',
        ...(url === undefined ? [] : ['--set', `config.apiUrl=${url}`]),
      ]);
      expect(apiPorts(objects)).toEqual([port]);
    });

    it.each([
      ['a port out of range', 'https://api.mistral.ai:99999/v1/admin', /config\.apiUrl=.*port must be from 1 to 65535/],
      ['credentials', 'https://u:p@api.mistral.ai/v1/admin', /config\.apiUrl=.*without credentials/],
    ])('a config.apiUrl with %s fails the render with the same message', (_what, url, message) => {
      const base = [...KEY, '--set', `config.apiUrl=${url}`, '--skip-schema-validation'];
      expect(renderFails([...base, '--set', 'networkPolicy.enabled=true'])).toMatch(message);
      expect(renderFails(base)).toMatch(message);
    });
  });

  describe('null values', () => {
    const ALL_ON = ['serviceMonitor', 'prometheusRule', 'grafanaDashboards', 'networkPolicy', 'podDisruptionBudget'].flatMap((b) => [
      '--set',
      `${b}.enabled=true`,
    ]);

    it('--set existingSecret=null fails saying what to do instead, not with a nil pointer', () => {
      const out = renderFails(['--set', 'apiKey.value=k', '--set', 'existingSecret=null']);
      expect(out).toContain('existingSecret is missing');
      expect(out).toContain('leave existingSecret.name empty');
      expect(out).not.toMatch(/nil pointer/);
    });

    /** The key paths of the chart's own blocks (those its schema spells out), not of Kubernetes objects passed through. */
    function chartKeyPaths(values: Json, schema: Json, prefix = ''): string[] {
      const props = (schema.properties ?? {}) as Record<string, Json>;
      return Object.entries(values).flatMap(([k, v]) => {
        const path = prefix ? `${prefix}.${k}` : k;
        const sub = props[k];
        const nested = v !== null && typeof v === 'object' && !Array.isArray(v) && sub?.properties !== undefined;
        return [path, ...(nested ? chartKeyPaths(v as Json, sub as Json, path) : [])];
      });
    }
    const PATHS = chartKeyPaths(parseYaml(readChart('values.yaml')) as Json, JSON.parse(readChart('values.schema.json')) as Json).filter(
      (p) => !p.startsWith('config.'),
    );

    it('the chart has blocks to null', () => {
      expect(PATHS).toEqual(
        expect.arrayContaining([
          'existingSecret',
          'existingSecret.name',
          'userIdHashKey.existingSecret',
          'image.repository',
          'serviceMonitor',
        ]),
      );
    });

    it.each(PATHS)('--set %s=null: a valid render, or a failure naming it (never a Go error)', async (path) => {
      const args = [...KEY, ...ALL_ON, '--set', `${path}=null`];
      const r = template(args);
      if (r.status === 0) {
        const objects = parseManifests(r.stdout);
        expect([...(await manifestErrors(objects)), ...chartErrors(objects)]).toEqual([]);
      } else {
        expect(r.stderr).not.toMatch(/nil pointer|%!|<nil>|wrong type|error calling/);
        const leaf = path.split('.').pop() as string;
        expect(r.stderr.includes(path) || r.stderr.includes(leaf), r.stderr).toBe(true);
      }
    });
  });

  describe('extraArgs and extraEnv', () => {
    type EnvVar = { name: string; value?: string; valueFrom?: Json };
    const secretRef = { secretKeyRef: { name: 'mistral-admin-api', key: 'api-key' } };
    /** [what, extraArgs, extraEnv, config, undefined when the chart renders it, else what its message says] */
    const CASES: Array<[string, string[], EnvVar[], Json, RegExp | undefined]> = [
      ['a flag of a setting', ['--log-level=debug'], [], {}, undefined],
      ['a flag and its value as two arguments', ['--refresh-interval', '5m'], [], {}, undefined],
      [
        'a proxy and a CA',
        [],
        [
          { name: 'HTTPS_PROXY', value: 'http://proxy:3128' },
          { name: 'NODE_EXTRA_CA_CERTS', value: '/etc/ssl/ca.crt' },
        ],
        {},
        undefined,
      ],
      ["a setting's variable that config does not set", [], [{ name: 'REFRESH_INTERVAL', value: '5m' }], {}, undefined],
      [
        "a setting's variable from a ConfigMap",
        [],
        [{ name: 'REFRESH_INTERVAL', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } }],
        {},
        undefined,
      ],
      ['--port=', ['--port=9999'], [], {}, /extraArgs --port.*config\.port/],
      ['--port and its value', ['--port', '9999'], [], {}, /extraArgs --port.*config\.port/],
      ['--api-key-file', ['--api-key-file=/tmp/key'], [], {}, /extraArgs --api-key-file.*Secret/],
      ['--lechat-user-id-hash-key-file', ['--lechat-user-id-hash-key-file=/tmp/k'], [], {}, /extraArgs --lechat-user-id-hash-key-file/],
      ['--demo', ['--demo'], [], {}, /extraArgs --demo.*demo=true/],
      ['--help', ['--help'], [], {}, /extraArgs --help.*exit/],
      ['--version', ['--version'], [], {}, /extraArgs --version.*exit/],
      ['an unknown flag', ['--no-such-flag=1'], [], {}, /extraArgs --no-such-flag.*not a flag/],
      ['a short flag', ['-v'], [], {}, /extraArgs "-v"/],
      ['an argument that is not a flag', ['debug'], [], {}, /extraArgs "debug"/],
      ['a flag without its value', ['--refresh-interval'], [], {}, /extraArgs --refresh-interval.*needs a value/],
      ['a flag whose value looks like a flag', ['--host', '--port=1'], [], {}, /extraArgs --host/],
      ['a flag value the exporter refuses', ['--refresh-interval=500ms'], [], {}, /extraArgs --refresh-interval="500ms".*at least 1s/],
      ['an empty flag value', ['--log-level='], [], {}, /extraArgs --log-level="": must be one of/],
      ['an empty --host', ['--host='], [], {}, /extraArgs --host="": not an address/],
      ['an empty --workspace-ids (none)', ['--workspace-ids='], [], {}, undefined],
      ['an empty variable (unset)', [], [{ name: 'LOG_LEVEL', value: '' }], {}, undefined],
      [
        'a flag that wins over config, refused in the cross-check',
        ['--max-staleness=30m'],
        [],
        { refreshInterval: '45m' },
        /extraArgs --max-staleness="30m"/,
      ],
      [
        'a flag that wins over a config value the exporter would refuse',
        ['--refresh-interval=1m'],
        [],
        { maxStaleness: '20m', refreshInterval: '1h' },
        undefined,
      ],
      ['MISTRAL_ADMIN_API_KEY', [], [{ name: 'MISTRAL_ADMIN_API_KEY', value: 'k' }], {}, /extraEnv MISTRAL_ADMIN_API_KEY.*environment/],
      [
        'MISTRAL_ADMIN_API_KEY from a Secret',
        [],
        [{ name: 'MISTRAL_ADMIN_API_KEY', valueFrom: secretRef }],
        {},
        /extraEnv MISTRAL_ADMIN_API_KEY.*environment/,
      ],
      ['LECHAT_USER_ID_HASH_KEY', [], [{ name: 'LECHAT_USER_ID_HASH_KEY', valueFrom: secretRef }], {}, /extraEnv LECHAT_USER_ID_HASH_KEY/],
      [
        'MISTRAL_ADMIN_API_KEY_FILE',
        [],
        [{ name: 'MISTRAL_ADMIN_API_KEY_FILE', value: '/tmp/key' }],
        {},
        /extraEnv MISTRAL_ADMIN_API_KEY_FILE/,
      ],
      ['PORT', [], [{ name: 'PORT', value: '9999' }], {}, /extraEnv PORT.*config\.port/],
      [
        'a variable config sets too',
        [],
        [{ name: 'LOG_LEVEL', value: 'debug' }],
        { logLevel: 'info' },
        /extraEnv LOG_LEVEL.*config\.logLevel/,
      ],
      [
        'a variable set twice',
        [],
        [
          { name: 'HTTPS_PROXY', value: 'a' },
          { name: 'HTTPS_PROXY', value: 'b' },
        ],
        {},
        /extraEnv HTTPS_PROXY.*twice/,
      ],
      [
        "a setting's variable the exporter refuses",
        [],
        [{ name: 'MAX_CONCURRENT_REQUESTS', value: '0' }],
        {},
        /extraEnv MAX_CONCURRENT_REQUESTS="0"/,
      ],
    ];

    it.each(CASES)('%s', async (_what, extraArgs, extraEnv, config, message) => {
      const args = [
        ...KEY,
        '--set-json',
        `extraArgs=${JSON.stringify(extraArgs)}`,
        '--set-json',
        `extraEnv=${JSON.stringify(extraEnv)}`,
        ...configArgs(config),
      ];
      const env = { ...configEnv(config) };
      for (const e of extraEnv) if (e.value !== undefined) env[e.name] = e.value;
      const refusal = exporterRefusal(env, extraArgs);
      if (message === undefined) {
        expect(refusal, 'the exporter accepts it').toBeNull();
        const objects = await renderValid(args);
        const input = exporterInput(objects);
        expect(exporterRefusal(input.env, input.argv)).toBeNull();
        expect(containerOf(objects).ports?.[0]?.containerPort).toBe(10460);
      } else {
        // Whatever the exporter refuses, the chart refuses; the chart refuses more (the port, the keys, --demo).
        expect(renderFails(args)).toMatch(message);
      }
    });
  });

  describe('Chart.yaml', () => {
    const chart = parseYaml(readChart('Chart.yaml')) as Json;

    it('has an icon, a file of this repository, so helm lint no longer asks for one', () => {
      const icon = String(chart.icon);
      const prefix = 'https://raw.githubusercontent.com/mistral-admin-exporter/mistral-admin-exporter/main/';
      expect(icon.startsWith(prefix), icon).toBe(true);
      expect(readFileSync(join(ROOT, icon.slice(prefix.length)), 'utf8')).toMatch(/^<svg[\s>]/);
      const r = tool().lint(CHART_DIR, ['--values', ciFile('demo-values.yaml')]);
      expect(r.status, r.output).toBe(0);
      expect(r.output).not.toMatch(/icon is recommended/);
    });

    it('states the Kubernetes versions it supports: an older one fails the render', async () => {
      expect(chart.kubeVersion).toBe('>=1.25.0-0');
      await renderValid([...KEY, '--kube-version', '1.25.0']);
      expect(renderFails([...KEY, '--kube-version', '1.24.17'])).toMatch(/kubeVersion/);
    });
  });

  describe('hostile values', () => {
    const ALL = ['--values', ciFile('all-features-values.yaml')];
    const tricky = 'a: "quoted" {{ braces }} # not a comment\n  second line, \\ and \u00e9';
    /** [what, arguments, release, undefined when it renders (every object valid), else what the failure says] */
    const CASES: Array<[string, string[], string, RegExp | undefined]> = [
      [
        'annotations and label-free text with quotes, braces, colons and newlines',
        [
          ...ALL,
          '--set-json',
          `podAnnotations=${JSON.stringify({ 'example.com/note': tricky })}`,
          '--set-json',
          `service.annotations=${JSON.stringify({ 'example.com/note': tricky })}`,
          '--set-json',
          `grafanaDashboards.annotations=${JSON.stringify({ grafana_folder: tricky })}`,
        ],
        'test',
        undefined,
      ],
      [
        'a job name with quotes and a backslash (in PromQL)',
        [...ALL, '--set-json', `serviceMonitor.jobName=${JSON.stringify('my "job" \\ x')}`],
        'test',
        undefined,
      ],
      [
        'extraRules with quotes and a multi-line expression',
        [
          ...ALL,
          '--set-json',
          `prometheusRule.extraRules=${JSON.stringify([{ alert: 'Q', expr: 'sum(\n  mistral_up{job="a\\"b"}\n) > 0', annotations: { summary: 'a: "quoted" # not a comment\n  second line, \\ and \u00e9' } }])}`,
        ],
        'test',
        undefined,
      ],
      ['priorityClassName "true", a string', [...KEY, '--set-string', 'priorityClassName=true'], 'test', undefined],
      [
        'config.host "::" and a workspace id that YAML reads as a number',
        [...KEY, '--set-string', 'config.host=::', '--set-json', 'config.workspaceIds=["0123","1e3","true"]'],
        'test',
        undefined,
      ],
      ['an image tag of 128 characters', [...KEY, '--set', `image.tag=${'v'.repeat(128)}`], 'test', undefined],
      ['an image tag with a dot at character 63', [...KEY, '--set', `image.tag=${'1'.repeat(62)}.${'2'.repeat(10)}`], 'test', undefined],
      ['an image digest', [...KEY, '--set', `image.digest=sha256:${'a'.repeat(64)}`], 'test', undefined],
      ['the longest release name, every feature on', ALL, `r${'1'.repeat(51)}x`, undefined],
      ['a release name with a dot', KEY, 'my.release', /fullnameOverride/],
      ['a release name starting with a digit', KEY, '1st', /fullnameOverride/],
      ['a fullnameOverride with capitals', [...KEY, '--set', 'fullnameOverride=Mistral'], 'test', /fullnameOverride/],
      ['a nameOverride with an underscore', [...KEY, '--set', 'nameOverride=mistral_exporter'], 'test', /nameOverride/],
      ['an image tag with a plus', [...KEY, '--set', 'image.tag=1.0+build'], 'test', /image\.tag/],
      ['a label value with a space', [...KEY, '--set', 'podLabels.team=fin ops'], 'test', /podLabels/],
      ['a label name with a space', [...KEY, '--set-json', 'podLabels={"fin ops":"x"}'], 'test', /podLabels/],
      ['a label value of 64 characters', [...KEY, '--set', `service.labels.team=${'x'.repeat(64)}`], 'test', /service\.labels/],
      [
        'podLabels redefining a label of the chart',
        [...KEY, '--set-json', 'podLabels={"app.kubernetes.io/name":"other"}'],
        'test',
        /podLabels.*app\.kubernetes\.io\/name/,
      ],
      [
        'service.labels redefining a label of the chart',
        [...KEY, '--set-json', 'service.labels={"app.kubernetes.io/part-of":"monitoring"}'],
        'test',
        /service\.labels.*app\.kubernetes\.io\/part-of/,
      ],
      [
        'a namespace with capitals',
        [...KEY, '--set', 'serviceMonitor.enabled=true', '--set', 'serviceMonitor.namespace=Monitoring'],
        'test',
        /serviceMonitor\.namespace/,
      ],
      ['a priorityClassName with capitals', [...KEY, '--set', 'priorityClassName=High'], 'test', /priorityClassName/],
      [
        'an alert label name Prometheus refuses',
        [...KEY, '--set', 'prometheusRule.enabled=true', '--set', 'prometheusRule.additionalRuleLabels.team-name=x'],
        'test',
        /additionalRuleLabels/,
      ],
      [
        'minAvailable 150%',
        [...KEY, '--set', 'podDisruptionBudget.enabled=true', '--set', 'podDisruptionBudget.minAvailable=150%'],
        'test',
        /minAvailable/,
      ],
      ['an api key with a space inside', ['--set', 'apiKey.value=abc def'], 'test', /apiKey\.value/],
      [
        'a user-id hash key with a control character',
        [...KEY, '--set-json', 'userIdHashKey.value="abc\\u0007def"'],
        'test',
        /userIdHashKey\.value/,
      ],
      [
        'an extra volume named like one of the chart',
        [...KEY, '--set-json', 'extraVolumes=[{"name":"tmp","emptyDir":{}}]'],
        'test',
        /extraVolumes.*tmp/,
      ],
      [
        'an extra mount over /tmp',
        [
          ...KEY,
          '--set-json',
          'extraVolumes=[{"name":"scratch","emptyDir":{}}]',
          '--set-json',
          'extraVolumeMounts=[{"name":"scratch","mountPath":"/tmp"}]',
        ],
        'test',
        /extraVolumeMounts.*\/tmp/,
      ],
    ];

    it.each(CASES)('%s', async (_what, args, release, message) => {
      if (message === undefined) await renderValid(args, release);
      else expect(renderFails(args, release)).toMatch(message);
    });

    it('an api key given with a trailing newline is stored trimmed', async () => {
      const secret = one(await renderValid(['--set-json', 'apiKey.value="the-key\\n"']), 'Secret');
      expect(Buffer.from((secret.data as Record<string, string>)['api-key'] as string, 'base64').toString()).toBe('the-key');
    });
  });
});
