import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { endpointsMarkdownTable, generatedDocs } from '../scripts/docs.js';
import { loadConfig } from '../src/config/index.js';
import { SETTINGS } from '../src/config/settings.js';
import { PATH_LAYOUTS, pathCandidates } from '../src/endpoints.js';
import { routeTable } from '../src/simulator/routes.js';
import { API_ENDPOINTS, CATALOG, createSources } from '../src/sources/catalog.js';
import { readerOptions } from './support/readers.js';

/**
 * The endpoint catalog is the one place an endpoint is wired. These tests
 * turn "declared but not wired" into a failure, and check that what is
 * derived from the catalog agrees with it.
 */
const SOURCES_DIR = new URL('../src/sources/', import.meta.url);

/** Every value exported by a module of src/sources/ that has the shape of an endpoint declaration. */
async function declaredEndpoints(): Promise<Array<{ file: string; id: string; value: unknown }>> {
  const out: Array<{ file: string; id: string; value: unknown }> = [];
  for (const file of readdirSync(SOURCES_DIR)
    .filter((f) => f.endsWith('.ts'))
    .sort()) {
    const module = (await import(new URL(file, SOURCES_DIR).href)) as Record<string, unknown>;
    for (const value of Object.values(module)) {
      const v = value as { id?: unknown; reader?: unknown; paths?: unknown };
      if (v !== null && typeof v === 'object' && typeof v.id === 'string' && typeof v.reader === 'function' && v.paths !== undefined) {
        out.push({ file, id: v.id, value });
      }
    }
  }
  return out;
}

describe('the endpoint catalog', () => {
  it('lists every endpoint declared under src/sources/, each once', async () => {
    const declared = await declaredEndpoints();
    expect(declared.length).toBeGreaterThanOrEqual(8);
    const unwired = declared.filter((d) => !(CATALOG as readonly unknown[]).includes(d.value)).map((d) => `${d.file}: ${d.id}`);
    expect(unwired, 'declared with defineEndpoint but missing from CATALOG in src/sources/catalog.ts').toEqual([]);
    expect(new Set(CATALOG).size).toBe(CATALOG.length);
    expect(new Set(API_ENDPOINTS).size).toBe(API_ENDPOINTS.length);
  });

  it.each(CATALOG.map((e) => [e.id, e] as const))(
    '%s: a snake_case id, its own interval setting, families, and a path the simulator routes in every layout',
    (id, e) => {
      expect(id).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
      const interval = Object.values(SETTINGS).find((s) => s.env === `REFRESH_INTERVAL_${id.toUpperCase()}`);
      expect(interval, `REFRESH_INTERVAL_${id.toUpperCase()}`).toBeDefined();
      expect(interval?.help).toContain(e.title);
      expect(e.families.length).toBeGreaterThan(0);
      for (const f of e.families) expect(f.name).toMatch(/^mistral_[a-z0-9_]+$/);
      for (const layout of PATH_LAYOUTS) {
        const [path] = pathCandidates(id, layout);
        expect(routeTable([layout]).get(path as string), `${id} in layout ${layout}: ${path}`).toBe(id);
      }
    },
  );

  it('gives each metric family to one endpoint only', () => {
    const names = CATALOG.flatMap((e) => e.families.map((f) => f.name));
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });

  it('makes MISTRAL_ENDPOINTS, the refresh intervals and the sources from the same list', () => {
    const command = loadConfig({
      argv: [],
      env: { MISTRAL_ADMIN_API_KEY: 'k', REFRESH_INTERVAL_VIBE_BY_ORGANIZATION: '2h', MAX_STALENESS: '3h' },
    });
    if (command.kind !== 'run') throw new Error('unexpected');
    const { config } = command;
    expect(config.endpoints).toEqual(CATALOG.map((e) => e.id));
    expect(Object.keys(config.refreshIntervalsMs).sort()).toEqual([...API_ENDPOINTS].sort());
    expect(config.refreshIntervalsMs.vibe_by_organization).toBe(2 * 3_600_000);
    expect(config.refreshIntervalsMs.vibe_by_workspace).toBe(10 * 60_000);
    expect(config.refreshIntervalsMs.usage).toBe(60_000);
    const sources = createSources(config.endpoints, readerOptions());
    expect(sources.map((s) => [s.endpoint, s.describe])).toEqual(CATALOG.map((e) => [e.id, e.describe]));
    expect(createSources(['usage', 'spend_limit'], readerOptions()).map((s) => s.endpoint)).toEqual(['spend_limit', 'usage']);
  });
});

describe('documents generated from the catalog and the settings', () => {
  it('docs/metrics.md has one endpoint row per catalog entry', () => {
    const rows = endpointsMarkdownTable().split('\n').slice(2);
    expect(rows.map((r) => /^\| `(\w+)`/.exec(r)?.[1])).toEqual([...API_ENDPOINTS]);
  });

  it.each(generatedDocs().map(([file, content]) => [file.pathname.replace(/^.*\/(?=README\.md|docs\/)/, ''), file, content] as const))(
    '%s is up to date (run `npm run generate`)',
    (_name, file, content) => {
      expect(readFileSync(file, 'utf8')).toBe(content);
    },
  );
});
