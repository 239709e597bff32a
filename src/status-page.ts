/**
 * The status page at `/`: per organization, spend against the monthly limit
 * and its month-end projection, then each endpoint's state, data age, path
 * in use, last error and what to do about it. Server-rendered HTML with its
 * CSS inline: readable without JavaScript, at any width.
 *
 * It reads only what the exporter holds (the scheduler's state, the metric
 * families `/metrics` serves, the client's paths): opening it never calls
 * the Admin API. Every text that can come from outside (an error message
 * quoting an answer, a currency, a field path) is scrubbed of the secrets,
 * then escaped.
 */
import { adviceFor } from './advice.js';
import { formatDuration } from './config/values.js';
import type { ApiEndpoint } from './endpoints.js';
import type { Scheduler } from './scheduler.js';
import { scrub } from './secret.js';
import type { MetricFamily } from './sources/types.js';
import { UNKNOWN_CURRENCY } from './sources/parse.js';
import { DAY_MS } from './sources/windows.js';

/** The endpoints whose metric families the page reads: the scheduler keeps theirs (`keepFamilies`). */
export const STATUS_PAGE_ENDPOINTS: readonly ApiEndpoint[] = ['spend_limit'];

/** One organization as the page shows it; several are a loop away. */
export interface OrganizationStatus {
  /** Its name where several are configured; undefined for the one organization of the environment configuration. */
  name: string | undefined;
  /** The Admin API base URL in use. */
  apiUrl: string;
  /** MISTRAL_ADMIN_API_PATH_LAYOUT. */
  pathLayout: string;
  scheduler: Pick<Scheduler, 'details' | 'families'>;
  /** The path variant that answered last, relative to the base URL (the client's `pathInUse`). */
  pathInUse(endpoint: ApiEndpoint): string | undefined;
}

export interface StatusPageOptions {
  version: string;
  demo: boolean;
  organizations(): readonly OrganizationStatus[];
  /** Every secret's current (and recent) values: scrubbed from all the page shows. */
  secrets(): readonly string[];
  now(): number;
}

export function renderStatusPage(options: StatusPageOptions): string {
  const now = options.now();
  const secrets = options.secrets();
  // Scrubbed before it is escaped: escaping changes the forms the scrubbing knows.
  const t = (s: string) => escapeHtml(scrub(s, secrets));
  const organizations = options.organizations();
  const demo = options.demo
    ? '<p class="banner demo" role="note"><strong>Demo mode.</strong> Every figure on this page comes from a simulated Admin API built into the exporter, not from Mistral.</p>'
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.demo ? 'Demo: ' : ''}Mistral Admin API exporter</title>
<style>${CSS}</style>
</head><body>
<header><h1>Mistral Admin API exporter</h1><p class="muted">Version ${t(options.version)} · shown at <time datetime="${iso(now)}">${t(utc(now))}</time> · <a href="metrics">/metrics</a> · <a href="-/healthy">/-/healthy</a> · <a href="-/ready">/-/ready</a></p></header>
${demo}
<main>
${organizations.map((org) => organizationSection(org, now, t)).join('\n')}
</main>
<footer class="muted">This page shows what the exporter holds; opening it never calls the Admin API. Figures are those of <a href="metrics">/metrics</a>, as of each endpoint's last good refresh.</footer>
</body></html>
`;
}

type Text = (s: string) => string;

function organizationSection(org: OrganizationStatus, now: number, t: Text): string {
  const details = org.scheduler.details();
  const up = details.filter((d) => d.up).length;
  const spendDetail = details.find((d) => d.endpoint === 'spend_limit');
  const spend = spendDetail === undefined ? undefined : spendOf(org.scheduler.families('spend_limit'));
  const title = org.name === undefined ? 'Organization' : `Organization ${t(org.name)}`;
  const summary = `${up} of ${details.length} endpoint${details.length === 1 ? '' : 's'} up`;
  return `<section class="org"${org.name === undefined ? '' : ` data-org="${t(org.name)}"`}>
<div class="org-head"><h2>${title}</h2><p class="pill ${up === details.length ? 'up' : up === 0 ? 'down' : 'partly'}">${summary}</p></div>
<p class="muted">Admin API <code class="url">${t(displayUrl(org.apiUrl))}</code> · path layout <code>${t(org.pathLayout)}</code></p>
${spendDetail === undefined ? '' : spendCard(spend, spendDetail, now, t)}
<h3>Endpoints</h3>
<table class="endpoints">
<colgroup><col class="c-endpoint"><col class="c-state"><col class="c-age"><col class="c-next"><col class="c-series"><col class="c-path"></colgroup>
<thead><tr><th scope="col">Endpoint</th><th scope="col">State</th><th scope="col">Data age</th><th scope="col">Next refresh</th><th scope="col" class="num">Series</th><th scope="col">Path in use</th></tr></thead>
${details.map((d) => endpointRows(d, org, now, t)).join('\n')}
</table>
</section>`;
}

type Detail = ReturnType<Scheduler['details']>[number];

/** What GET spend-limit's families on /metrics say, read back from them. */
interface Spend {
  currency: string;
  /** total_usage as the API gives it, else the sum of mistral_spend's products (which adds up to it). */
  total: number | undefined;
  limit: number | undefined;
  limitEnabled: boolean;
  utilization: number | undefined;
  projected: number | undefined;
  limitReached: boolean;
  paymentFailed: boolean;
}

function spendOf(families: readonly MetricFamily[] | undefined): Spend | undefined {
  if (families === undefined) return undefined;
  const samples = (name: string) => families.find((f) => f.name === name)?.samples ?? [];
  const one = (name: string) => samples(name)[0]?.value;
  const parts = samples('mistral_spend');
  const reportedTotal = samples('mistral_spend_reported').find((s) => s.labels.field === 'total_usage')?.value;
  const currency = [...parts, ...samples('mistral_spend_limit')][0]?.labels.currency ?? UNKNOWN_CURRENCY;
  return {
    currency,
    total: reportedTotal ?? (parts.length === 0 ? undefined : parts.reduce((n, s) => n + s.value, 0)),
    limit: one('mistral_spend_limit'),
    limitEnabled: one('mistral_spend_limit_enabled') !== 0,
    utilization: one('mistral_spend_limit_utilization_ratio'),
    projected: one('mistral_spend_projected'),
    limitReached: one('mistral_spend_limit_reached') === 1,
    paymentFailed: one('mistral_payment_last_failed') === 1,
  };
}

function spendCard(spend: Spend | undefined, detail: Detail, now: number, t: Text): string {
  if (spend === undefined) {
    const why =
      detail.lastSuccessAt === undefined
        ? 'GET spend-limit has not answered yet.'
        : `GET spend-limit last answered ${t(ago(now, detail.lastSuccessAt))}: its data is older than MAX_STALENESS and no longer served.`;
    return `<div class="card spend"><h3>Spend this month</h3><p class="muted">No spend figures: ${why} See the endpoint below.</p></div>`;
  }
  const money = moneyFormat(spend.currency);
  const amount = (n: number | undefined, cls: string) =>
    n === undefined ? '<span class="muted">not given</span>' : `<data class="${cls}" value="${n}">${t(money(n))}</data>`;
  const flags = [
    spend.limitReached
      ? '<p class="banner bad" role="alert"><strong>Monthly limit reached:</strong> the Admin API refuses calls until the limit is raised or the month ends.</p>'
      : '',
    spend.paymentFailed
      ? '<p class="banner bad" role="alert"><strong>The last payment failed:</strong> check the billing details.</p>'
      : '',
  ].join('');
  const hasLimit = spend.limitEnabled && spend.limit !== undefined && spend.limit > 0;
  let bar = '';
  if (hasLimit && spend.utilization !== undefined) {
    const ratio = spend.utilization;
    const level = ratio >= 1 ? 'bad' : ratio >= 0.8 ? 'warn' : 'ok';
    const projectedRatio = spend.projected === undefined ? undefined : spend.projected / (spend.limit as number);
    const marker =
      projectedRatio === undefined
        ? ''
        : `<div class="marker${projectedRatio > 1 ? ' over' : ''}" style="left:${percent(Math.min(projectedRatio, 1))}" title="projected at month end"></div>`;
    bar =
      `<div class="bar" role="img" aria-label="${percent(ratio)} of the monthly limit spent">` +
      `<div class="fill ${level}" style="width:${percent(Math.min(ratio, 1))}"></div>${marker}</div>` +
      `<p class="legend"><data class="utilization" value="${ratio}">${percent(ratio)}</data> of the monthly limit spent` +
      (projectedRatio === undefined
        ? ''
        : `; <span class="tick"></span> projected ${percent(projectedRatio)} by the month's end${projectedRatio > 1 ? ', over the limit' : ''}`) +
      '</p>';
  }
  const limit = !spend.limitEnabled
    ? '<span class="muted">no monthly limit</span>'
    : spend.limit === undefined
      ? '<span class="muted">not given</span>'
      : amount(spend.limit, 'limit');
  const projected =
    spend.projected === undefined ? '<span class="muted">from the month\'s second day</span>' : amount(spend.projected, 'projected');
  return `<div class="card spend"><h3>Spend this month</h3>
${flags}<dl class="figures">
<div><dt>Spent</dt><dd>${amount(spend.total, 'spent')}</dd></div>
<div><dt>Monthly limit</dt><dd>${limit}</dd></div>
<div><dt>Projected at month end</dt><dd>${projected}</dd></div>
</dl>
${bar}<p class="muted small">GET spend-limit, ${detail.lastSuccessAt === undefined ? '' : `data ${t(ago(now, detail.lastSuccessAt))}; `}the projection is linear in the time elapsed in the UTC calendar month.</p>
</div>`;
}

function endpointRows(d: Detail, org: OrganizationStatus, now: number, t: Text): string {
  const pending = d.lastSuccessAt === undefined && d.failure === undefined;
  const state = d.up ? 'up' : pending ? 'pending' : 'down';
  const served = d.series !== undefined;
  let age: string;
  if (served && d.lastSuccessAt !== undefined) {
    age = `<time datetime="${iso(d.lastSuccessAt)}" title="${t(utc(d.lastSuccessAt))}">${t(ago(now, d.lastSuccessAt))}</time>`;
    if (!d.up) age += '<br><span class="small warn-text">last good data, still served</span>';
    if (d.completeUntil !== undefined) age += `<br><span class="small muted nowrap">${t(completeText(d.completeUntil * 1000))}</span>`;
  } else if (d.lastSuccessAt !== undefined) {
    age = `<span class="warn-text">withdrawn</span><br><span class="small muted">older than MAX_STALENESS (last good ${t(ago(now, d.lastSuccessAt))})</span>`;
  } else {
    age = '<span class="muted">none yet</span>';
  }
  const next = d.nextRefreshAt === undefined ? '<span class="muted">not scheduled</span>' : t(`in ${duration(d.nextRefreshAt - now)}`);
  const path = org.pathInUse(d.endpoint);
  const row =
    `<tbody class="endpoint ${state}" data-endpoint="${t(d.endpoint)}"><tr>` +
    `<th scope="row" data-label="Endpoint"><code class="id">${t(d.endpoint)}</code><br><span class="small muted">${t(d.describe)}</span></th>` +
    `<td data-label="State"><span class="pill ${state}">${state}</span></td>` +
    `<td data-label="Data age">${age}</td>` +
    `<td data-label="Next refresh">${next}</td>` +
    `<td data-label="Series" class="num">${served ? d.series : '<span class="muted">–</span>'}</td>` +
    `<td data-label="Path in use">${path === undefined ? '<span class="muted">not known yet</span>' : `<code class="path">${t(path).replaceAll('/', '/<wbr>')}</code>`}</td></tr>`;
  const notes: string[] = [];
  if (d.failure !== undefined) {
    const advice = adviceFor(d.failure.error, { endpoint: d.endpoint, apiUrl: org.apiUrl, reader: 'exporter' });
    notes.push(
      `<tr class="problem"><td colspan="6"><dl>` +
        `<div><dt>Last error <time class="muted" datetime="${iso(d.failure.at)}">${t(ago(now, d.failure.at))}</time></dt><dd class="error">${t(d.failure.message)}</dd></div>` +
        `<div><dt>What to do</dt><dd class="advice">${t(advice)}</dd></div></dl></td></tr>`,
    );
  }
  const unreadable = Object.values(d.unreadable ?? {});
  if (unreadable.length > 0) {
    const total = unreadable.reduce((n, u) => n + u.count, 0);
    notes.push(
      `<tr class="note"><td colspan="6">${total} entr${total === 1 ? 'y' : 'ies'} of the last good answer could not be read and ${total === 1 ? 'was' : 'were'} left out (first: <code>${t(unreadable[0]?.example ?? '')}</code>); the rest is served. Run <code>check --save-answers DIR</code> and attach the files to a bug report.</td></tr>`,
    );
  }
  return `${row}${notes.join('')}</tbody>`;
}

/** The base URL without any user name or password in it. */
function displayUrl(apiUrl: string): string {
  try {
    const url = new URL(apiUrl);
    if (url.username === '' && url.password === '') return apiUrl;
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return apiUrl;
  }
}

/** Currency symbols written before the amount; other currencies are named after it. */
const SYMBOLS: Readonly<Record<string, string>> = { EUR: '€', USD: '$', GBP: '£' };

/** Amounts with two decimals and thousands separated by commas, the same on every machine (no Intl: no locale). */
function moneyFormat(currency: string): (n: number) => string {
  const digits = (n: number) => {
    const [whole, cents] = Math.abs(n).toFixed(2).split('.') as [string, string];
    return `${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${cents}`;
  };
  const sign = (n: number) => (n < 0 ? '-' : '');
  if (currency === UNKNOWN_CURRENCY) return (n) => `${sign(n)}${digits(n)} (currency not given)`;
  const symbol = SYMBOLS[currency];
  if (symbol !== undefined) return (n) => `${sign(n)}${symbol}${digits(n)}`;
  return (n) => `${sign(n)}${digits(n)} ${currency}`;
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(ratio < 0.1 ? 1 : 0)}%`;
}

function duration(ms: number): string {
  return formatDuration(Math.max(0, Math.round(ms / 1000) * 1000));
}

function ago(now: number, at: number): string {
  const ms = now - at;
  return ms < 1000 ? 'just now' : `${duration(ms)} ago`;
}

/** Analytics data is complete up to a day's end (exclusive): said as the last complete day. */
function completeText(until: number): string {
  if (until % DAY_MS !== 0) return `complete until ${utc(until)}`;
  return `complete through ${iso(until - DAY_MS).slice(0, 10)}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function utc(ms: number): string {
  return `${iso(ms).slice(0, 16).replace('T', ' ')} UTC`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `
:root{--fg:#1d232b;--muted:#5d6773;--line:#dfe3e8;--bg:#f6f7f9;--card:#fff;--ok:#1a7f37;--ok-bg:#e6f4ea;--warn:#9a6700;--warn-bg:#fff4d6;--bad:#c62828;--bad-bg:#fdecec;--accent:#fa500f}
*{box-sizing:border-box}
body{margin:0;padding:1.5rem;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header,main,footer,.banner{max-width:72rem;margin-left:auto;margin-right:auto}
h1{font-size:1.5rem;margin:0 0 .25rem;border-left:.3rem solid var(--accent);padding-left:.6rem}
h2{font-size:1.25rem;margin:0}
h3{font-size:1rem;margin:1.25rem 0 .5rem}
a{color:#0b57d0}
code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.path{overflow-wrap:break-word}
.muted{color:var(--muted)}
.small{font-size:.85em}
.nowrap{white-space:nowrap}
.banner{padding:.6rem .9rem;border-radius:.4rem;margin-top:1rem;margin-bottom:1rem}
.demo{background:var(--warn-bg);border:1px solid #f0d48a}
.bad.banner{background:var(--bad-bg);border:1px solid #f3b8b8;color:var(--bad)}
.org{background:var(--card);border:1px solid var(--line);border-radius:.6rem;padding:1.25rem;margin:1.25rem 0}
.org-head{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem}
.org-head p{margin:0}
.card{border:1px solid var(--line);border-radius:.5rem;padding:1rem;margin-top:1rem}
.card h3{margin-top:0}
.figures{display:flex;flex-wrap:wrap;gap:.75rem 2.5rem;margin:0 0 1rem}
.figures dt{color:var(--muted);font-size:.85em}
.figures dd{margin:0;font-size:1.5rem;font-weight:600;font-variant-numeric:tabular-nums}
.bar{position:relative;height:1rem;background:#eceff3;border-radius:.5rem}
.fill{height:100%;border-radius:.5rem}
.fill.ok{background:var(--ok)}.fill.warn{background:#d4a017}.fill.bad{background:var(--bad)}
.marker{position:absolute;top:-.3rem;bottom:-.3rem;width:3px;margin-left:-1.5px;background:var(--fg)}
.marker.over{background:var(--bad)}
.tick{display:inline-block;width:3px;height:.9em;background:var(--fg);vertical-align:-.1em}
.legend{margin:.4rem 0}
.pill{display:inline-block;padding:0 .55rem;border-radius:1rem;font-size:.85em;font-weight:600;line-height:1.6}
.pill.up{background:var(--ok-bg);color:var(--ok)}
.pill.down{background:var(--bad-bg);color:var(--bad)}
.pill.partly{background:var(--warn-bg);color:var(--warn)}
.pill.pending{background:#eceff3;color:var(--muted)}
.warn-text{color:var(--warn)}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;vertical-align:top;padding:.5rem .6rem}
thead th{white-space:nowrap;font-size:.8em;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);border-bottom:2px solid var(--line)}
tbody.endpoint{border-bottom:1px solid var(--line)}
.c-endpoint{width:25%}.c-state{width:7%}.c-age{width:16%}.c-next{width:10%}.c-series{width:7%}
tbody th{font-weight:normal}
.num{text-align:right;font-variant-numeric:tabular-nums}
tr.problem td,tr.note td{padding-top:0}
tr.problem dl{margin:0;padding:.5rem .75rem;background:var(--bad-bg);border-left:3px solid var(--bad);border-radius:.3rem;display:grid;gap:.35rem}
tr.problem dt{font-weight:600;font-size:.85em}
tr.problem dd{margin:0;overflow-wrap:anywhere}
tr.note td{color:var(--warn)}
footer{margin-top:1.5rem;font-size:.85em}
@media (max-width:760px){
body{padding:.75rem}
.org{padding:.9rem}
.figures{gap:.5rem 1.5rem}
.figures dd{font-size:1.25rem}
thead{display:none}
table,tbody,tr,th,td{display:block;width:100%}
tbody.endpoint{padding:.6rem 0}
tbody.endpoint tr:first-child{display:grid;grid-template-columns:repeat(6,1fr);gap:.3rem .75rem}
tbody.endpoint tr:first-child>*{padding:0;grid-column:span 2}
tbody.endpoint tr:first-child>th{grid-column:span 5}
tbody.endpoint tr:first-child>td[data-label="State"]{grid-column:span 1;text-align:right}
tbody.endpoint tr:first-child>td[data-label="Path in use"]{grid-column:1/-1}
tbody.endpoint tr:first-child>td:not([data-label="State"])::before{content:attr(data-label);display:block;font-size:.7em;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.num{text-align:left}
tr.problem td,tr.note td{padding:.5rem 0 0}
}
`;
