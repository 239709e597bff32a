/**
 * The status page in a real browser: headless Chromium (Debian's `chromium`,
 * driven with playwright-core, JavaScript off) loads `/` from the exporter
 * listening on a real socket, checks what a reader sees at desktop and phone
 * widths, and saves a screenshot: to the temporary directory, or with
 * UPDATE_SCREENSHOT=1 to the one the README shows (docs/status-page.png), so
 * that a test run leaves the tree clean (the demo's port changes every run).
 *
 * Needs `chromium` on PATH: under CI=true its absence fails the test (.ci/run
 * installs it); elsewhere the test is skipped with a loud line.
 */
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADVICE } from '../src/advice.js';
import { type Harness, samples, startHarness, valueOf } from './support/harness.js';
import { hasTool, realClockEnv } from './support/tools.js';

const enabled = hasTool('chromium', 'chromium');

/** The text as the reader sees it, laid out (what is hidden is not in it). */
// biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what this test checks
const seen = (locator: Locator): Promise<string> => locator.innerText();
const SCREENSHOT =
  process.env.UPDATE_SCREENSHOT === '1' ? new URL('../docs/status-page.png', import.meta.url).pathname : join(tmpdir(), 'status-page.png');

describe.runIf(enabled)('the status page in headless Chromium', () => {
  let h: Harness;
  let browser: Browser;
  let origin: string;

  beforeAll(async () => {
    const executablePath = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).stdout.trim();
    if (executablePath === '') throw new Error("chromium is not installed (CI=true requires it: install Debian's chromium package)");
    // The demo as a user starts it, one endpoint refused as an organization without the audit log sees it.
    h = await startHarness({ argv: ['--demo'] });
    h.sim.setFault('audit_events', { kind: 'status', status: 403, body: { detail: 'Forbidden' } });
    // Running as it runs: every endpoint refreshed at start, then a few minutes on.
    h.clock.afterEachTimer = () => h.exporter.scheduler.whenIdle();
    h.exporter.scheduler.start();
    await h.clock.advance(0);
    await h.clock.advance(4 * 60_000);
    origin = await h.exporter.app.listen({ host: '127.0.0.1', port: 0 });
    // --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
    // Chromium hangs on a faked clock (faketime): it runs on the real one; the page it loads is rendered by the exporter, on the test's.
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'], env: realClockEnv() });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  /** The page at `width` px, with JavaScript off: everything must be in the HTML and CSS. */
  async function open(width: number): Promise<Page> {
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width, height: 900 } });
    const page = await context.newPage();
    const res = await page.goto(`${origin}/`);
    expect(res?.status()).toBe(200);
    return page;
  }

  it('shows the spend against the limit, the projection and every endpoint, as /metrics has them', async () => {
    const page = await open(1280);
    const metrics = await h.scrape();
    expect(await page.title()).toBe('Demo: Mistral Admin API exporter');
    await expect(seen(page.locator('.banner.demo'))).resolves.toMatch(/^Demo mode\. Every figure on this page comes from a simulated/);

    const total = valueOf(metrics, 'mistral_spend_reported', { currency: 'EUR', field: 'total_usage' }) as number;
    const limit = valueOf(metrics, 'mistral_spend_limit', { currency: 'EUR' }) as number;
    const projected = valueOf(metrics, 'mistral_spend_projected', { currency: 'EUR' }) as number;
    const money = (n: number) => `€${n.toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
    expect(await seen(page.locator('data.spent'))).toBe(money(total));
    expect(Number(await page.locator('data.spent').getAttribute('value'))).toBe(total);
    expect(await seen(page.locator('data.limit'))).toBe(money(limit));
    expect(await seen(page.locator('data.projected'))).toBe(money(projected));

    // The bar is filled to the share of the limit spent, and its marker stands at the projection.
    const bar = await page.locator('.bar').boundingBox();
    const fill = await page.locator('.bar .fill').boundingBox();
    const marker = await page.locator('.bar .marker').boundingBox();
    if (bar === null || fill === null || marker === null) throw new Error('the bar is not drawn');
    expect(fill.width / bar.width).toBeCloseTo(Number((Math.min(total / limit, 1) * 100).toFixed(total / limit < 0.1 ? 1 : 0)) / 100, 2);
    expect((marker.x + marker.width / 2 - bar.x) / bar.width).toBeCloseTo(Math.min(projected / limit, 1), 2);

    const up = [...samples(metrics)].filter(([k]) => k.startsWith('mistral_up{'));
    expect(await page.locator('tbody.endpoint').count()).toBe(up.length);
    for (const [key, value] of up) {
      const endpoint = key.match(/api_endpoint="([^"]+)"/)?.[1] as string;
      const row = page.locator(`tbody[data-endpoint="${endpoint}"]`);
      expect(await seen(row.locator('.pill')), endpoint).toBe(value === 1 ? 'up' : 'down');
      expect(await row.locator('code.id').isVisible()).toBe(true);
    }
    const refused = page.locator('tbody[data-endpoint="audit_events"]');
    expect(await seen(refused.locator('.error'))).toContain('refused access (403)');
    expect(await seen(refused.locator('.advice'))).toContain(
      `${ADVICE.forbidden}; an organization without access to the audit log can leave audit_events out of MISTRAL_ENDPOINTS`,
    );
    expect(await seen(page.locator('code.url'))).toBe(h.sim.url);

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    process.stderr.write(`status page at 1280px: ${SCREENSHOT}\n`);
    await page.context().close();
  });

  it('fits a phone: nothing wider than the screen, each endpoint a card with its labels', async () => {
    const width = 390;
    const page = await open(width);
    for (const selector of ['main', '.spend', 'table.endpoints', 'tbody[data-endpoint="audit_events"] .advice']) {
      const box = await page.locator(selector).first().boundingBox();
      expect(box, selector).not.toBeNull();
      expect((box?.x ?? 0) + (box?.width ?? 0), selector).toBeLessThanOrEqual(width);
    }
    expect(await page.locator('table.endpoints thead').isVisible()).toBe(false);
    expect(await page.locator('tbody[data-endpoint="usage"] .advice').count()).toBe(0);
    // The name with its state on one line, the figures three to the next, the path under them.
    const cell = async (label: string) => page.locator(`tbody[data-endpoint="usage"] [data-label="${label}"]`).boundingBox();
    const [name, state, age, next, series, path] = await Promise.all(
      ['Endpoint', 'State', 'Data age', 'Next refresh', 'Series', 'Path in use'].map(cell),
    );
    if (!name || !state || !age || !next || !series || !path) throw new Error('a cell is not drawn');
    expect(state.y).toBeLessThan(name.y + name.height);
    expect(age.y).toBeGreaterThanOrEqual(name.y + name.height);
    expect([next.y, series.y]).toEqual([age.y, age.y]);
    expect(next.x).toBeGreaterThanOrEqual(age.x + age.width);
    expect(series.x).toBeGreaterThanOrEqual(next.x + next.width);
    expect(path.y).toBeGreaterThanOrEqual(age.y + age.height);
    // For a look by eye: the top of the page and a failing endpoint, at this width.
    const shots = [join(tmpdir(), 'status-page-phone.png'), join(tmpdir(), 'status-page-phone-failing.png')];
    await page.screenshot({ path: shots[0] });
    await page.locator('tbody[data-endpoint="audit_events"]').screenshot({ path: shots[1] });
    process.stderr.write(`status page at ${width}px: ${shots.join(', ')}\n`);
    await page.context().close();
  });
});
