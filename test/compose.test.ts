import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { hasTool, promtool } from './support/tools.js';

/**
 * No Docker engine runs here: `docker compose up` is not tried. These check
 * what can be checked without one: the files parse, every mounted path
 * exists, Prometheus's config (with the rules mounted where the container
 * sees them) passes `promtool check config`, and Grafana's provisioning
 * points at the mounted dashboards and the stack's Prometheus.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const compose = parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8'), { uniqueKeys: true }) as ComposeFile;

interface Service {
  build?: string | { context: string };
  image?: string;
  command?: string[];
  environment?: Record<string, string> | string[];
  volumes?: string[];
  ports?: string[];
}
interface ComposeFile {
  services: Record<string, Service>;
}

interface Mount {
  host: string;
  container: string;
}

/** A service's bind mounts (`./host:/container[:ro]`), the host side resolved against the repository root. */
function mounts(service: string): Mount[] {
  return (compose.services[service]?.volumes ?? []).map((v) => {
    const [host, container] = v.split(':') as [string, string];
    return { host: resolve(ROOT, host), container };
  });
}

/** The host path mounted at `containerPath`, or under a mounted directory. */
function hostPathOf(service: string, containerPath: string): string | undefined {
  for (const m of mounts(service)) {
    if (containerPath === m.container) return m.host;
    if (containerPath.startsWith(`${m.container}/`)) return join(m.host, containerPath.slice(m.container.length + 1));
  }
  return undefined;
}

function environment(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (!Array.isArray(env)) return env;
  return Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

describe('compose.yaml', () => {
  it('runs the exporter, Prometheus and Grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['exporter', 'grafana', 'prometheus']);
  });

  it('builds the exporter from the Dockerfile and runs it in demo mode, with no key', () => {
    const exporter = compose.services.exporter as Service;
    const context = typeof exporter.build === 'string' ? exporter.build : exporter.build?.context;
    expect(context).toBe('.');
    expect(existsSync(join(ROOT, 'Dockerfile'))).toBe(true);
    expect(exporter.command).toEqual(['--demo']);
    const env = environment(exporter);
    expect(Object.keys(env).filter((k) => k.startsWith('MISTRAL_ADMIN_API_KEY'))).toEqual([]);
    expect(exporter.volumes ?? []).toEqual([]);
    expect(JSON.stringify(compose)).not.toMatch(/MISTRAL_ADMIN_API_KEY/);
  });

  it('pins the images of Prometheus and Grafana to a version', () => {
    for (const name of ['prometheus', 'grafana']) expect(compose.services[name]?.image).toMatch(/:v?\d+\.\d+\.\d+$/);
  });

  it('mounts only paths that exist in the repository', () => {
    const all = Object.keys(compose.services).flatMap((s) => mounts(s));
    expect(all.length).toBeGreaterThan(0);
    for (const m of all) {
      expect(m.host.startsWith(ROOT), m.host).toBe(true);
      expect(existsSync(m.host), `${m.host} (mounted at ${m.container})`).toBe(true);
    }
  });

  it("mounts the project's rules and dashboards themselves, not copies", () => {
    expect(hostPathOf('prometheus', '/etc/prometheus/rules/mistral-admin-exporter.yml')).toBe(join(ROOT, 'prometheus/alerts.yml'));
    expect(mounts('grafana').map((m) => m.host)).toContain(join(ROOT, 'grafana-dashboards'));
  });
});

describe("the stack's Prometheus", () => {
  const configPath = hostPathOf('prometheus', '/etc/prometheus/prometheus.yml') as string;
  const config = parse(readFileSync(configPath, 'utf8'), { uniqueKeys: true }) as {
    rule_files: string[];
    scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
  };

  it('is started with the mounted config', () => {
    expect(compose.services.prometheus?.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
  });

  it('scrapes the exporter service as job="mistral-admin-exporter" (the job the rules and dashboards assume)', () => {
    const job = config.scrape_configs.find((j) => j.job_name === 'mistral-admin-exporter');
    expect(job?.static_configs.flatMap((s) => s.targets)).toEqual(['exporter:10460']);
  });

  it('loads rule files that are mounted in the container', () => {
    expect(config.rule_files.length).toBeGreaterThan(0);
    for (const file of config.rule_files) {
      const inContainer = file.startsWith('/') ? file : join('/etc/prometheus', file);
      expect(hostPathOf('prometheus', inContainer), inContainer).toBeDefined();
    }
  });

  it.runIf(hasTool('promtool'))('passes `promtool check config`, with its rules where the container sees them', () => {
    // The container's filesystem, as far as Prometheus's mounts make it.
    const root = mkdtempSync(join(tmpdir(), 'compose-prometheus-'));
    temps.push(root);
    for (const m of mounts('prometheus')) cpSync(m.host, join(root, m.container), { recursive: true });
    const result = promtool(['check', 'config', join(root, 'etc/prometheus/prometheus.yml')]);
    expect(result.output).toMatch(/SUCCESS/);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toMatch(/SUCCESS: \d+ rules found/);
  });
});

describe("the stack's Grafana", () => {
  const provisioning = hostPathOf('grafana', '/etc/grafana/provisioning') as string;
  const yamlIn = (dir: string) =>
    readdirSync(join(provisioning, dir))
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => parse(readFileSync(join(provisioning, dir, f), 'utf8'), { uniqueKeys: true }) as Record<string, unknown>);

  it('has its provisioning directory mounted', () => {
    expect(provisioning).toBeDefined();
    expect(statSync(provisioning).isDirectory()).toBe(true);
  });

  it("provisions the stack's Prometheus as the default datasource", () => {
    const sources = yamlIn('datasources').flatMap((f) => f.datasources as Array<Record<string, unknown>>);
    expect(sources).toHaveLength(1);
    expect(sources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true });
    expect(Object.keys(compose.services)).toContain('prometheus');
  });

  it('provisions every dashboard of grafana-dashboards/ from a mounted path', () => {
    const providers = yamlIn('dashboards').flatMap((f) => f.providers as Array<{ type: string; options: { path: string } }>);
    expect(providers).toHaveLength(1);
    const provider = providers[0] as { type: string; options: { path: string } };
    expect(provider.type).toBe('file');
    const host = hostPathOf('grafana', provider.options.path);
    expect(host).toBe(join(ROOT, 'grafana-dashboards'));
    const dashboards = readdirSync(host as string).filter((f) => f.endsWith('.json'));
    expect(dashboards.length).toBeGreaterThanOrEqual(5);
    for (const f of dashboards) {
      const d = JSON.parse(readFileSync(join(host as string, f), 'utf8')) as {
        uid?: string;
        templating?: { list: Array<{ type: string }> };
      };
      expect(d.uid, f).toBeTruthy();
      // The datasource variable picks the default Prometheus: the provisioned one.
      expect(
        d.templating?.list.some((v) => v.type === 'datasource'),
        f,
      ).toBe(true);
    }
  });

  it('opens on a dashboard that is mounted', () => {
    const home = environment(compose.services.grafana as Service).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    expect(home).toBeDefined();
    const host = hostPathOf('grafana', home as string);
    expect(host && existsSync(host), home).toBe(true);
    expect(dirname(host as string)).toBe(join(ROOT, 'grafana-dashboards'));
  });
});
