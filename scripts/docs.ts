/**
 * Rewrites the generated parts of the docs from the code that defines them:
 * the README's settings table (src/config/settings.ts) and the metrics
 * reference's endpoint table (the catalog, src/sources/catalog.ts).
 * `npm run generate` writes them (scripts/generate.ts); test/catalog.test.ts
 * fails while they differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { settingsMarkdownTable } from '../src/config/index.js';
import { intervalSettingKeys, SETTINGS } from '../src/config/settings.js';
import { PATH_LAYOUTS } from '../src/endpoints.js';
import { CATALOG } from '../src/sources/catalog.js';

export const README = new URL('../README.md', import.meta.url);
export const METRICS_DOC = new URL('../docs/metrics.md', import.meta.url);

/** The metrics reference's table of Admin API endpoints, one row per catalog entry. */
export function endpointsMarkdownTable(): string {
  const rows = [
    '| `api_endpoint` | path, below the base URL (tried in this order in `auto`) | query | interval (default) | per workspace |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const e of CATALOG) {
    const paths = typeof e.paths === 'string' ? [e.paths] : [...new Set(PATH_LAYOUTS.map((l) => (e.paths as Record<string, string>)[l]))];
    const [own, group] = intervalSettingKeys(e.id);
    const interval = `\`${SETTINGS[own].env}\` (\`${SETTINGS[group].env}\`, ${SETTINGS[group].default})`;
    rows.push(
      `| \`${e.id}\` | ${paths.map((p) => `\`${p}\``).join('<br>')} | ${e.query} | ${interval} | ${e.perWorkspace ? 'yes' : 'no'} |`,
    );
  }
  return rows.join('\n');
}

/** `text` with the lines between `<!-- NAME:start -->` and `<!-- NAME:end -->` replaced by `body`. */
function replaceMarked(text: string, name: string, body: string, file: string): string {
  const marker = new RegExp(`(<!-- ${name}:start -->\\n)[\\s\\S]*?(<!-- ${name}:end -->)`);
  if (!marker.test(text)) throw new Error(`${file} has no ${name} markers`);
  return text.replace(marker, (_m, start: string, end: string) => `${start}${body}\n${end}`);
}

/** Each generated document as it should be: [file, content]. */
export function generatedDocs(): Array<[URL, string]> {
  return [
    [README, replaceMarked(readFileSync(README, 'utf8'), 'settings-table', settingsMarkdownTable(), 'README.md')],
    [METRICS_DOC, replaceMarked(readFileSync(METRICS_DOC, 'utf8'), 'endpoints-table', endpointsMarkdownTable(), 'docs/metrics.md')],
  ];
}

/** Rewrites the generated parts of the docs (unless `check`); returns the files that were out of date. */
export function writeDocs(check: boolean): string[] {
  const stale = generatedDocs().filter(([file, content]) => readFileSync(file, 'utf8') !== content);
  for (const [file, content] of stale) if (!check) writeFileSync(file, content);
  return stale.map(([file]) => file.pathname.replace(/^.*\/(?=README\.md$|docs\/)/, ''));
}
