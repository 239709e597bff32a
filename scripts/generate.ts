/**
 * Regenerates every generated file from the code that defines it, in the
 * order they depend on each other:
 *
 * 1. grafana-dashboards/*.json, from scripts/dashboards.ts;
 * 2. the Helm chart: values.yaml's config block, values.schema.json,
 *    templates/_settings.tpl and deployment.yaml's environment map, the
 *    README's values table, and the chart's copies of the alerts and the
 *    dashboards (scripts/sync-chart.ts);
 * 3. the README's settings table and docs/metrics.md's endpoint table, from
 *    the settings and the endpoint catalog (scripts/docs.ts).
 *
 * `npm run generate` writes them. `npm run generate -- --check` writes
 * nothing and exits 1 naming what is out of date; test/generate.test.ts
 * runs the same check in `npm test`.
 */
import { mkdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { buildDashboards, renderDashboard } from './dashboards.js';
import { writeDocs } from './docs.js';
import { syncChart } from './sync-chart.js';

const DASHBOARD_DIR = new URL('../grafana-dashboards/', import.meta.url);

function writeDashboards(check: boolean): string[] {
  const stale: string[] = [];
  if (!check) mkdirSync(DASHBOARD_DIR, { recursive: true });
  for (const [file, dashboard] of Object.entries(buildDashboards())) {
    const path = new URL(file, DASHBOARD_DIR);
    const content = renderDashboard(dashboard);
    if (existsSync(path) && readFileSync(path, 'utf8') === content) continue;
    stale.push(`grafana-dashboards/${file}`);
    if (!check) writeFileSync(path, content);
  }
  return stale;
}

/** Every generated file brought up to date (unless `check`); returns those that were not, relative to the repo. */
export function generate(check: boolean): string[] {
  return [...writeDashboards(check), ...syncChart(check), ...writeDocs(check)];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const check = process.argv.includes('--check');
  const stale = generate(check);
  if (stale.length === 0) console.log('generate: everything is up to date');
  else console.log(`generate: ${check ? 'out of date (run npm run generate)' : 'updated'}:\n  ${stale.join('\n  ')}`);
  process.exitCode = check && stale.length > 0 ? 1 : 0;
}
