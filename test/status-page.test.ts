/**
 * The status page at `/` (src/status-page.ts), through the real exporter
 * and the HTTP simulator: its figures are those of /metrics, a failing
 * endpoint shows its error and what to do, and opening it costs the Admin
 * API nothing.
 */
import { describe, expect, it } from 'vitest';
import { ADVICE } from '../src/advice.js';
import { type Harness, samples, useHarness, valueOf } from './support/harness.js';

const harness = useHarness();

async function page(h: Harness): Promise<string> {
  const res = await h.exporter.app.inject({ url: '/' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  return res.body;
}

/** The `value` of the page's `<data class="name">`, as a number; undefined when absent. */
function figure(html: string, name: string): number | undefined {
  const m = html.match(new RegExp(`<data class="${name}" value="([^"]*)">`));
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** The page's block about one endpoint (its row, and its error and advice when it fails). */
function endpointBlock(html: string, endpoint: string): { state: string; html: string } {
  const m = html.match(new RegExp(`<tbody class="endpoint (\\w+)" data-endpoint="${endpoint}">([\\s\\S]*?)</tbody>`));
  if (m === null) throw new Error(`no block for ${endpoint} on the page`);
  return { state: m[1] as string, html: m[2] as string };
}

/** Text as a browser shows it: tags dropped, the page's entities decoded. */
function text(html: string): string {
  return html
    .replace(/<wbr>/g, '')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/\s+/g, ' ');
}

describe('the status page', () => {
  it('shows the spend, the limit, the utilization and the projection that /metrics serves', async () => {
    const h = await harness();
    await h.refreshAll();
    const html = await page(h);
    const metrics = await h.scrape();
    const total = valueOf(metrics, 'mistral_spend_reported', { currency: 'EUR', field: 'total_usage' });
    const parts = [...samples(metrics)].filter(([k]) => k.startsWith('mistral_spend{')).reduce((n, [, v]) => n + v, 0);
    expect(total).toBeGreaterThan(0);
    expect(total).toBeCloseTo(parts, 6);
    expect(figure(html, 'spent')).toBe(total);
    expect(figure(html, 'limit')).toBe(valueOf(metrics, 'mistral_spend_limit', { currency: 'EUR' }));
    expect(figure(html, 'limit')).toBe(5000);
    expect(figure(html, 'projected')).toBe(valueOf(metrics, 'mistral_spend_projected', { currency: 'EUR' }));
    expect(figure(html, 'utilization')).toBe(valueOf(metrics, 'mistral_spend_limit_utilization_ratio'));
    // Shown as money and as a share of the limit, and the bar is that wide.
    const utilization = figure(html, 'utilization') as number;
    expect(text(html)).toContain(`€${(total as number).toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`);
    expect(html).toContain(`style="width:${(utilization * 100).toFixed(utilization < 0.1 ? 1 : 0)}%"`);
    expect(html).not.toContain('Demo mode');
  });

  it('lists every endpoint of mistral_up by its api_endpoint name, in the same state, with the path in use and the base URL', async () => {
    const h = await harness();
    h.sim.setFault('rate_limit', { kind: 'status', status: 403 });
    await h.refreshAll();
    const html = await page(h);
    const up = [...samples(await h.scrape())].filter(([k]) => k.startsWith('mistral_up{'));
    expect(up.length).toBeGreaterThan(5);
    for (const [key, value] of up) {
      const endpoint = key.match(/api_endpoint="([^"]+)"/)?.[1] as string;
      const block = endpointBlock(html, endpoint);
      expect(block.state, endpoint).toBe(value === 1 ? 'up' : 'down');
      const path = h.exporter.client.pathInUse(endpoint as never);
      // A refused endpoint has no path known to answer.
      expect(path === undefined, endpoint).toBe(endpoint === 'rate_limit');
      expect(text(block.html)).toContain(path === undefined ? 'not known yet' : ` ${path} `);
    }
    expect(html.match(/<tbody class="endpoint /g)).toHaveLength(up.length);
    expect(html).toContain(`<code class="url">${h.sim.url}</code>`);
    expect(text(html)).toContain(`${up.length - 1} of ${up.length} endpoints up`);
  });

  it('shows a failing endpoint with its error and what to do, and keeps showing the data it still serves', async () => {
    const h = await harness();
    await h.refreshAll();
    h.sim.setFault('usage', { kind: 'status', status: 401, body: { detail: 'Invalid API key' } });
    h.sim.setFault('spend_limit', { kind: 'status', status: 400, body: { detail: 'month must be <YYYY-MM> & "quoted"' } });
    await h.refresh('usage');
    await h.refresh('spend_limit');
    const html = await page(h);

    const usage = endpointBlock(html, 'usage');
    expect(usage.state).toBe('down');
    expect(text(usage.html)).toContain(ADVICE.unauthorized);
    expect(usage.html).toContain('class="error"');
    expect(text(usage.html)).toMatch(/Last error just now/);
    // Its last good data is still served (and so shown), with its age.
    expect(text(usage.html)).toContain('last good data, still served');

    const spend = endpointBlock(html, 'spend_limit');
    expect(spend.state).toBe('down');
    // The answer's text, escaped: no tag of its own reaches the page.
    expect(spend.html).toContain('month must be &#60;YYYY-MM&#62; &#38; \\&#34;quoted\\&#34;');
    expect(html).not.toContain('<YYYY-MM>');
    expect(text(spend.html)).toMatch(/What to do the Admin API did not accept the request: run check --save-answers DIR/);
    // The spend figures are those of the last good answer, still on /metrics.
    expect(figure(html, 'spent')).toBe(valueOf(await h.scrape(), 'mistral_spend_reported', { currency: 'EUR', field: 'total_usage' }));

    const ok = endpointBlock(html, 'workspaces');
    expect(ok.state).toBe('up');
    expect(ok.html).not.toContain('What to do');
  });

  it('says what to do about a 5xx, a 403 on le Chat, and an API that is not there', async () => {
    const h = await harness({ retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 } });
    h.sim.setFault('rate_limit', { kind: 'status', status: 503 });
    h.sim.setFault('lechat_by_user', { kind: 'status', status: 403 });
    h.sim.setFault('workspaces', { kind: 'reset' });
    await h.refresh('rate_limit');
    await h.refresh('lechat_by_user');
    await h.refresh('workspaces');
    const html = await page(h);
    expect(text(endpointBlock(html, 'rate_limit').html)).toContain('failing on its side: nothing to change here');
    expect(text(endpointBlock(html, 'lechat_by_user').html)).toContain(
      `${ADVICE.forbidden}; an organization without le Chat can leave lechat_by_user out of MISTRAL_ENDPOINTS`,
    );
    expect(text(endpointBlock(html, 'workspaces').html)).toMatch(/the connection to 127\.0\.0\.1:\d+ failed/);
  });

  it('says plainly that nothing was read yet, and when data was withdrawn for being stale', async () => {
    const h = await harness();
    let html = await page(h);
    expect(endpointBlock(html, 'spend_limit').state).toBe('pending');
    expect(text(html)).toContain('No spend figures: GET spend-limit has not answered yet.');
    expect(text(html)).toContain('0 of ');

    await h.refresh('spend_limit');
    h.sim.setFault('spend_limit', { kind: 'status', status: 500 });
    await h.clock.advance(2 * 3600_000 + 1000);
    await h.refresh('spend_limit');
    html = await page(h);
    expect(valueOf(await h.scrape(), 'mistral_spend_limit', { currency: 'EUR' })).toBeUndefined();
    expect(figure(html, 'spent')).toBeUndefined();
    expect(text(html)).toMatch(/its data is older than MAX_STALENESS and no longer served/);
    expect(text(endpointBlock(html, 'spend_limit').html)).toMatch(/withdrawn older than MAX_STALENESS \(last good 2h\d+s ago\)/);
  });

  it('never calls the Admin API: it reads what the exporter holds', async () => {
    const h = await harness();
    await h.refreshAll();
    const before = h.sim.requests.length;
    for (let i = 0; i < 20; i++) await page(h);
    expect(h.sim.requests.length).toBe(before);
  });

  it('says so plainly in demo mode', async () => {
    const h = await harness({ argv: ['--demo'] });
    await h.refresh('spend_limit');
    const html = await page(h);
    expect(html).toContain('<title>Demo: Mistral Admin API exporter</title>');
    expect(text(html)).toContain(
      'Demo mode. Every figure on this page comes from a simulated Admin API built into the exporter, not from Mistral.',
    );
  });

  it('shows when the limit is reached, the last payment failed, or there is no limit', async () => {
    const h = await harness();
    h.sim.setSpendLimit(10);
    h.sim.setPaymentFailed(true);
    await h.refresh('spend_limit');
    let html = await page(h);
    expect(text(html)).toContain('Monthly limit reached');
    expect(text(html)).toContain('The last payment failed');
    expect(html).toMatch(/<div class="fill bad" style="width:100%">/);
    expect(html).toContain('<div class="marker over" style="left:100%"');

    h.sim.setSpendLimit(null);
    h.sim.setPaymentFailed(false);
    await h.refresh('spend_limit');
    html = await page(h);
    expect(text(html)).toContain('Monthly limit no monthly limit');
    expect(html).not.toContain('class="bar"');
    expect(figure(html, 'projected')).toBe(valueOf(await h.scrape(), 'mistral_spend_projected', { currency: 'EUR' }));
  });
});
