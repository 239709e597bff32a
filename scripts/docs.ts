/**
 * Rewrites the generated parts of the docs from the code that defines them:
 * the README's settings table (from src/config/settings.ts).
 * Run with `npm run docs`; a test fails while they differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { settingsMarkdownTable } from '../src/config/index.js';

const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const marker = /(<!-- settings-table:start -->\n)[\s\S]*?(<!-- settings-table:end -->)/;
if (!marker.test(readme)) throw new Error('README.md has no settings-table markers');
const updated = readme.replace(marker, (_m, start: string, end: string) => `${start}${settingsMarkdownTable()}\n${end}`);
if (updated !== readme) {
  writeFileSync(path, updated);
  console.log('README.md: settings table updated');
} else {
  console.log('README.md: settings table already up to date');
}
