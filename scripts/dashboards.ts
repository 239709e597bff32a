/**
 * Builds the Grafana dashboards in grafana-dashboards/ from code, so that
 * every panel follows the same rules (datasource variable, job/instance
 * matchers, units, money as currency-labelled amounts, max across replicas).
 * `npm run generate` writes them (scripts/generate.ts); a test fails while
 * the JSON files differ from what this makes (test/dashboards.test.ts).
 */

type Json = Record<string, unknown>;

/** Every panel and target points at the dashboard's datasource variable. */
export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;

/** The matchers every selector carries. */
const JOB_INSTANCE = 'job=~"$job", instance=~"$instance", org=~"$org"';
/**
 * Series without an `org` label even when the exporter reads several
 * organizations: Prometheus's `up` (one per scrape target) and the
 * exporter's build info. They are not filtered on `$org` (choosing an
 * organization would empty their panels).
 */
const WITHOUT_ORG: ReadonlySet<string> = new Set(['up', 'mistral_exporter_build_info']);
/** The analytics window chosen in the `window` variable. */
const WINDOW = 'window=~"$window"';

/** `metric{job=~"$job", instance=~"$instance", org=~"$org", ...}` (without `org` for WITHOUT_ORG) */
function sel(metric: string, ...matchers: string[]): string {
  const base = WITHOUT_ORG.has(metric) ? 'job=~"$job", instance=~"$instance"' : JOB_INSTANCE;
  return `${metric}{${[base, ...matchers].join(', ')}}`;
}

/**
 * One value across replicas: two exporters scraped at once serve the same
 * figures, so series are deduplicated with `max`, never added up.
 */
function one(metric: string, ...matchers: string[]): string {
  return `max without (instance, pod) (${sel(metric, ...matchers)})`;
}

/** One analytics figure divided by another, both in the chosen window and summed over their labels, e.g. prompts per session. */
function windowRatio(numerator: string, denominator: string, ...numeratorMatchers: string[]): string {
  return `sum by (org) (${one(numerator, WINDOW, ...numeratorMatchers)}) / sum by (org) (${one(denominator, WINDOW)})`;
}

const MONEY_NOTE =
  ' Amounts are in the currency shown beside them (the `currency` label: the ISO 4217 code the Admin API gives, `XXX` when it names none); Grafana cannot take a unit from a label, so the unit is plain numbers with 2 decimals.';

const FRESHNESS_NOTE = ' The exporter reads the Admin API in the background: figures are as fresh as the "Data age" panel says.';

type PanelType = 'stat' | 'gauge' | 'bargauge' | 'timeseries' | 'table' | 'state-timeline';

interface TargetSpec {
  expr: string;
  legend?: string;
}

interface Mapping {
  value: string;
  text: string;
  color: string;
}

/**
 * A Grafana unit, or `money`: amounts in the currency of their `currency`
 * label, shown with unit none and 2 decimals, with a note in the description
 * (the legend must name the currency).
 */
type Unit = string;

interface PanelSpec {
  type: PanelType;
  title: string;
  description: string;
  unit: Unit;
  w: number;
  h: number;
  targets: TargetSpec[];
  decimals?: number;
  min?: number;
  max?: number;
  /** [from value, colour] steps; the first step's value is null (base). */
  thresholds?: Steps;
  mappings?: Mapping[];
  /** Extra panel options merged over the type's defaults. */
  options?: Json;
  /** `fieldConfig.defaults.custom` for timeseries. */
  custom?: Json;
  overrides?: Json[];
  transformations?: Json[];
  /** Tables: targets as instant tables, merged. */
  table?: { rename: Record<string, string>; sortBy?: string; hide?: string[] };
}

/** What a panel has besides its type, title, unit and size. */
type PanelBody = Omit<PanelSpec, 'type' | 'title' | 'unit' | 'w' | 'h'>;

/** `stat('Title', 'short', [w, h], { description, targets, ... })`: a panel of that type, w grid columns (of 24) wide and h rows high. */
function panelOf(type: PanelType) {
  return (title: string, unit: Unit, [w, h]: [number, number], body: PanelBody): PanelSpec => ({ type, title, unit, w, h, ...body });
}
const stat = panelOf('stat');
const gauge = panelOf('gauge');
const barGauge = panelOf('bargauge');
const timeSeries = panelOf('timeseries');
const table = panelOf('table');
const stateTimeline = panelOf('state-timeline');

const isMoney = (spec: PanelSpec): boolean => spec.unit === 'money';

type Steps = Array<[number | null, string]>;
const DEFAULT_THRESHOLDS: Steps = [[null, 'green']];
/** A share of a limit: orange from 80%, red at 100%. */
const OF_LIMIT: Steps = [
  [null, 'green'],
  [0.8, 'orange'],
  [1, 'red'],
];
/** A count of things that should not happen: orange from the first. */
const ANY_IS_WARNING: Steps = [
  [null, 'green'],
  [1, 'orange'],
];

function thresholds(steps: Steps): Json {
  return { mode: 'absolute', steps: steps.map(([value, color]) => ({ color, value })) };
}

function valueMappings(mappings: Mapping[] | undefined): Json[] {
  if (!mappings || mappings.length === 0) return [];
  const options: Record<string, Json> = {};
  mappings.forEach((m, index) => {
    options[m.value] = { color: m.color, index, text: m.text };
  });
  return [{ type: 'value', options }];
}

const REDUCE_LAST = { calcs: ['lastNotNull'], fields: '', values: false };

function panelOptions(spec: PanelSpec): Json {
  switch (spec.type) {
    case 'stat':
      return {
        reduceOptions: REDUCE_LAST,
        colorMode: 'value',
        graphMode: 'none',
        justifyMode: 'auto',
        orientation: 'auto',
        textMode: isMoney(spec) ? 'value_and_name' : 'auto',
        wideLayout: true,
        showPercentChange: false,
        ...spec.options,
      };
    case 'gauge':
      return { reduceOptions: REDUCE_LAST, orientation: 'auto', showThresholdLabels: false, showThresholdMarkers: true, ...spec.options };
    case 'bargauge':
      return {
        reduceOptions: REDUCE_LAST,
        orientation: 'horizontal',
        displayMode: 'gradient',
        valueMode: 'color',
        namePlacement: 'auto',
        showUnfilled: true,
        sizing: 'auto',
        minVizHeight: 16,
        minVizWidth: 8,
        maxVizHeight: 300,
        ...spec.options,
      };
    case 'timeseries':
      return {
        legend: { calcs: ['lastNotNull', 'max'], displayMode: 'table', placement: 'right', showLegend: true },
        tooltip: { mode: 'multi', sort: 'desc' },
        ...spec.options,
      };
    case 'table': {
      const sortBy = spec.table?.sortBy;
      return {
        cellHeight: 'sm',
        showHeader: true,
        footer: { show: false, reducer: ['sum'], fields: '' },
        ...(sortBy ? { sortBy: [{ displayName: sortBy, desc: true }] } : {}),
        ...spec.options,
      };
    }
    case 'state-timeline':
      return {
        mergeValues: true,
        showValue: 'auto',
        alignValue: 'left',
        rowHeight: 0.9,
        legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
        tooltip: { mode: 'single', sort: 'none' },
        ...spec.options,
      };
  }
}

function customDefaults(spec: PanelSpec): Json | undefined {
  if (spec.type === 'timeseries') {
    return {
      drawStyle: 'line',
      lineInterpolation: 'stepAfter',
      lineWidth: 1,
      fillOpacity: 10,
      showPoints: 'never',
      spanNulls: false,
      axisPlacement: 'auto',
      stacking: { group: 'A', mode: 'none' },
      ...spec.custom,
    };
  }
  if (spec.type === 'state-timeline') return { fillOpacity: 80, lineWidth: 0 };
  if (spec.type === 'table') return { align: 'auto', cellOptions: { type: 'auto' }, inspect: false };
  return undefined;
}

function colorMode(spec: PanelSpec): string {
  if (spec.type === 'timeseries') return 'palette-classic';
  if (spec.type === 'bargauge' && !spec.thresholds) return 'continuous-BlPu';
  return 'thresholds';
}

/**
 * A legend naming the organization first when the query reads series of
 * organizations (`{{org}} EUR`): with several, their figures are told apart;
 * with one (no `org` label) `{{org}}` is empty and the legend reads as before.
 */
function orgLegend(expr: string, legend: string): string {
  return expr.includes('org=~"$org"') && !legend.includes('{{org}}') ? `{{org}} ${legend}` : legend;
}

/** Instant queries for the panels that show the current value; range queries for the ones over time. */
function isRangePanel(type: PanelType): boolean {
  return type === 'timeseries' || type === 'state-timeline';
}

function buildPanel(spec: PanelSpec, id: number, gridPos: Json): Json {
  const refIds = 'ABCDEFGHIJ';
  const targets = spec.targets.map((t, i) => {
    const target: Json = {
      refId: refIds[i],
      datasource: DATASOURCE,
      expr: t.expr,
      legendFormat: t.legend ? orgLegend(t.expr, t.legend) : '__auto',
    };
    if (spec.type === 'table') Object.assign(target, { format: 'table', instant: true, range: false });
    else if (isRangePanel(spec.type)) Object.assign(target, { instant: false, range: true });
    else Object.assign(target, { instant: true, range: false });
    return target;
  });
  const defaults: Json = {
    unit: isMoney(spec) ? 'none' : spec.unit,
    color: { mode: colorMode(spec) },
    thresholds: thresholds(spec.thresholds ?? DEFAULT_THRESHOLDS),
    mappings: valueMappings(spec.mappings),
  };
  const decimals = isMoney(spec) ? 2 : spec.decimals;
  if (decimals !== undefined) defaults.decimals = decimals;
  if (spec.min !== undefined) defaults.min = spec.min;
  if (spec.max !== undefined) defaults.max = spec.max;
  const custom = customDefaults(spec);
  if (custom) defaults.custom = custom;

  const transformations: Json[] = [...(spec.transformations ?? [])];
  if (spec.table) {
    if (spec.targets.length > 1) transformations.push({ id: 'merge', options: {} });
    const exclude: Record<string, boolean> = { Time: true, job: true, __name__: true };
    for (const h of spec.table.hide ?? []) exclude[h] = true;
    transformations.push({
      id: 'organize',
      options: { excludeByName: exclude, indexByName: {}, renameByName: { org: 'Organization', ...spec.table.rename } },
    });
  }

  const panel: Json = {
    id,
    type: spec.type,
    title: spec.title,
    description: isMoney(spec) ? `${spec.description}${MONEY_NOTE}` : spec.description,
    datasource: DATASOURCE,
    gridPos,
    fieldConfig: { defaults, overrides: spec.overrides ?? [] },
    options: panelOptions(spec),
    targets,
  };
  if (transformations.length > 0) panel.transformations = transformations;
  return panel;
}

/** Lays panels out left to right, 24 columns wide, wrapping to a new line when a panel does not fit. */
class Board {
  readonly panels: Json[] = [];
  private nextId = 1;
  private x = 0;
  private y = 0;
  private bottom = 0;
  /** The collapsed row being filled, if any: its panels are nested in it. */
  private collapsed: Json[] | undefined;

  private newline(): void {
    this.x = 0;
    this.y = this.bottom;
  }

  /** A row; `repeat`: a variable, the row and its panels then repeat once per value chosen. */
  row(title: string, options: { collapsed?: boolean; repeat?: string } = {}): void {
    this.newline();
    const nested: Json[] = [];
    this.panels.push({
      id: this.nextId++,
      type: 'row',
      title,
      collapsed: options.collapsed ?? false,
      gridPos: { h: 1, w: 24, x: 0, y: this.y },
      panels: options.collapsed ? nested : [],
      ...(options.repeat ? { repeat: options.repeat } : {}),
    });
    this.collapsed = options.collapsed ? nested : undefined;
    this.y += 1;
    this.bottom = this.y;
  }

  add(spec: PanelSpec): void {
    if (this.x + spec.w > 24) this.newline();
    const gridPos = { h: spec.h, w: spec.w, x: this.x, y: this.y };
    (this.collapsed ?? this.panels).push(buildPanel(spec, this.nextId++, gridPos));
    this.x += spec.w;
    this.bottom = Math.max(this.bottom, this.y + spec.h);
  }
}

// ---------------------------------------------------------------- variables

function datasourceVariable(): Json {
  return {
    name: 'datasource',
    label: 'Data source',
    type: 'datasource',
    query: 'prometheus',
    current: {},
    hide: 0,
    includeAll: false,
    multi: false,
    options: [],
    refresh: 1,
    regex: '',
    skipUrlSync: false,
  };
}

function queryVariable(
  name: string,
  label: string,
  query: string,
  options: { multi: boolean; sort?: number; current?: string; allValue?: string },
): Json {
  const all = options.current === ALL;
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    definition: query,
    query: { qryType: 1, query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    current: all
      ? { selected: true, text: ['All'], value: ['$__all'] }
      : options.current
        ? { selected: true, text: options.current, value: options.current }
        : {},
    hide: 0,
    includeAll: options.multi,
    multi: options.multi,
    ...(options.multi ? { allValue: options.allValue ?? '.+' } : {}),
    options: [],
    refresh: 2,
    regex: '',
    skipUrlSync: false,
    sort: options.sort ?? 1,
  };
}

/** A multi-valued variable's "All", as its current value. */
const ALL = '$__all';

/**
 * Data source, job, instance and organization on every dashboard; the analytics window where `window` names a metric that has the label;
 * the workspaces where `workspace` names a metric with `workspace_id`.
 */
function variables(window: string | undefined, workspace?: string): Json[] {
  const list = [
    datasourceVariable(),
    queryVariable('job', 'Job', 'label_values(mistral_up, job)', { multi: true }),
    queryVariable('instance', 'Instance', 'label_values(mistral_up{job=~"$job"}, instance)', { multi: true }),
    // The organizations of `--config.file`. A single-organization exporter's series have no `org`
    // label: the variable then has no value but All, whose `.*` matches the missing label.
    queryVariable('org', 'Organization', 'label_values(mistral_up{job=~"$job"}, org)', { multi: true, allValue: '.*', current: ALL }),
  ];
  // Single-valued: figures of different windows do not add up.
  if (window)
    list.push(queryVariable('window', 'Window', `label_values(${sel(window)}, window)`, { multi: false, sort: 3, current: '7d' }));
  if (workspace) list.push(queryVariable('workspace', 'Workspace', `label_values(${sel(workspace)}, workspace_id)`, { multi: true }));
  return list;
}

interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  time: string;
  /** A metric with a `window` label, for dashboards of analytics windows. */
  window?: string;
  board: Board;
  /** Prometheus annotation queries, after Grafana's built-in one. */
  annotations?: Json[];
  /** A metric with a `workspace_id` label, for the `workspace` variable of rows repeated per workspace. */
  workspace?: string;
}

function dashboard(spec: DashboardSpec): Json {
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['mistral'],
    editable: false,
    graphTooltip: 1,
    fiscalYearStartMonth: 0,
    liveNow: false,
    refresh: '5m',
    schemaVersion: 39,
    version: 1,
    timezone: 'utc',
    weekStart: '',
    time: { from: spec.time, to: 'now' },
    timepicker: {},
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
        ...(spec.annotations ?? []),
      ],
    },
    links: [
      {
        asDropdown: true,
        icon: 'external link',
        includeVars: true,
        keepTime: true,
        tags: ['mistral'],
        targetBlank: false,
        title: 'Mistral dashboards',
        type: 'dashboards',
      },
    ],
    templating: { list: variables(spec.window, spec.workspace) },
    panels: spec.board.panels,
  };
}

/** "Data age" of some endpoints: seconds since the freshest replica's last good refresh. */
function dataAge(endpoints: string, what: string): PanelSpec {
  return stat('Data age', 's', [8, 5], {
    description: `Seconds since the last successful refresh of ${what} (endpoints ${endpoints.split('|').join(', ')}), on the freshest replica. The exporter serves its last good answer while refreshes fail, and withdraws it after MAX_STALENESS.`,
    thresholds: [
      [null, 'green'],
      [3600, 'orange'],
    ],
    targets: [
      {
        expr: `time() - max by (org, api_endpoint) (${sel('mistral_exporter_last_success_timestamp_seconds', `api_endpoint=~"${endpoints}"`)})`,
        legend: '{{api_endpoint}}',
      },
    ],
  });
}

const YES_NO_BAD: Mapping[] = [
  { value: '0', text: 'No', color: 'green' },
  { value: '1', text: 'Yes', color: 'red' },
];

// ---------------------------------------------------------------- spend

/** Panels of spend (A), its projection (B) and its limit (C) over time: the limit a red dashed line, the projection dotted. */
const SPEND_PROJECTION_LIMIT_STYLE = [
  {
    matcher: { id: 'byFrameRefID', options: 'C' },
    properties: [
      { id: 'color', value: { fixedColor: 'red', mode: 'fixed' } },
      { id: 'custom.lineStyle', value: { dash: [10, 10], fill: 'dash' } },
      { id: 'custom.fillOpacity', value: 0 },
    ],
  },
  {
    matcher: { id: 'byFrameRefID', options: 'B' },
    properties: [
      { id: 'custom.lineStyle', value: { dash: [2, 4], fill: 'dot' } },
      { id: 'custom.fillOpacity', value: 0 },
    ],
  },
];

function spendDashboard(): Json {
  const b = new Board();
  const spendTotal = `sum by (org, currency) (${one('mistral_spend')})`;
  const limit = `max by (org, currency) (${sel('mistral_spend_limit')})`;
  const projected = `max by (org, currency) (${sel('mistral_spend_projected')})`;
  // Now, to the minute: the same answer for every query within a minute (replicas compared in tests).
  const NOW_MINUTE = 'scalar(floor(vector(time()) / 60)) * 60';
  // Seconds elapsed in the current UTC calendar month, as the spend counts it (at least a minute).
  const elapsed = 'scalar(clamp_min((day_of_month() - 1) * 86400 + hour() * 3600 + minute() * 60, 60))';

  b.row('Month to date');
  b.add(
    stat('Spend this month', 'money', [4, 5], {
      description:
        'Month-to-date spend as the spend limit counts it: API, Vibe and other products together (`sum` of `mistral_spend` over `product`), from the spend-limit endpoint.',
      targets: [{ expr: spendTotal, legend: '{{currency}}' }],
    }),
  );
  b.add(
    stat('Monthly spend limit', 'money', [4, 5], {
      description: "The organization's monthly spend limit (`usage_limit`). Empty when the organization has no monthly limit.",
      targets: [{ expr: limit, legend: '{{currency}}' }],
    }),
  );
  b.add(
    gauge('Limit utilisation', 'percentunit', [4, 5], {
      description:
        'Month-to-date spend divided by the monthly limit (`mistral_spend_limit_utilization_ratio`); at 100% the Admin API refuses calls until the month ends or the limit is raised. Empty without a limit.',
      min: 0,
      max: 1,
      thresholds: OF_LIMIT,
      targets: [{ expr: one('mistral_spend_limit_utilization_ratio'), legend: 'utilisation' }],
    }),
  );
  b.add(
    stat('Projected month-end spend', 'money', [4, 5], {
      description:
        'Month-end spend if the month goes on at its pace so far: linear from month-to-date spend and the time elapsed in the UTC calendar month, computed by the exporter at each refresh. Absent during the first UTC day of the month.',
      targets: [{ expr: projected, legend: '{{currency}}' }],
    }),
  );
  b.add(
    stat('Projected spend vs limit', 'percentunit', [4, 5], {
      description:
        'Projected month-end spend as a share of the monthly limit: above 100% the limit will be reached before the month ends at the current pace. Empty without a limit and during the first UTC day of the month.',
      thresholds: OF_LIMIT,
      targets: [{ expr: `${projected} / on (org, currency) ${limit}`, legend: '{{currency}}' }],
    }),
  );
  b.add(
    stat('Time until the limit at the current pace', 's', [4, 5], {
      description:
        'An estimate: the spend left before the limit, divided by the average spend per second since the start of the UTC month. 0 once the limit is reached; empty without a limit.',
      thresholds: [
        [null, 'red'],
        [3 * 86400, 'orange'],
        [7 * 86400, 'green'],
      ],
      targets: [
        {
          expr: `clamp_min(${limit} - on (org, currency) ${spendTotal}, 0) / on (org, currency) (${spendTotal} / ${elapsed})`,
          legend: 'time left',
        },
      ],
    }),
  );
  b.add(
    stat('Spend limit reached', 'none', [4, 4], {
      description:
        'Whether the monthly spend limit is reached (`monthly_limit_reached`): when it is, the Admin API refuses calls and applications using Mistral stop working.',
      mappings: YES_NO_BAD,
      targets: [{ expr: one('mistral_spend_limit_reached'), legend: 'limit reached' }],
    }),
  );
  b.add(
    stat('Last payment failed', 'none', [4, 4], {
      description: 'Whether the last payment attempt failed (`last_payment_failure`).',
      mappings: YES_NO_BAD,
      targets: [{ expr: one('mistral_payment_last_failed'), legend: 'payment failed' }],
    }),
  );
  b.add(
    stat('Monthly limit enabled', 'none', [4, 4], {
      description:
        'Whether the organization has a monthly spend limit (`no_monthly_limit` false). Without one, the limit, utilisation and time-to-limit panels are empty.',
      mappings: [
        { value: '0', text: 'No limit', color: 'blue' },
        { value: '1', text: 'Enabled', color: 'green' },
      ],
      targets: [{ expr: one('mistral_spend_limit_enabled'), legend: 'limit enabled' }],
    }),
  );
  b.add(
    stat('Billing period start', 'dateTimeAsIso', [4, 4], {
      description: 'Start of the period the usage (cost and tokens) figures cover (`start_date` of the usage answer), UTC.',
      targets: [{ expr: `${one('mistral_billing_period_start_timestamp_seconds')} * 1000`, legend: 'start' }],
    }),
  );
  b.add(
    stat('Billing period end', 'dateTimeAsIso', [4, 4], {
      description: 'End of the period the usage (cost and tokens) figures cover (`end_date` of the usage answer), UTC.',
      targets: [{ expr: `${one('mistral_billing_period_end_timestamp_seconds')} * 1000`, legend: 'end' }],
    }),
  );
  b.add(
    gauge('Billing period elapsed', 'percentunit', [4, 4], {
      description:
        'Share of the billing period gone by: compare it with the limit utilisation (spend ahead of time when utilisation is higher).',
      min: 0,
      max: 1,
      targets: [
        {
          expr: `clamp((${NOW_MINUTE} - ${one('mistral_billing_period_start_timestamp_seconds')}) / (${one('mistral_billing_period_end_timestamp_seconds')} - ${one('mistral_billing_period_start_timestamp_seconds')}), 0, 1)`,
          legend: 'elapsed',
        },
      ],
    }),
  );

  b.row('Spend over time');
  b.add(
    timeSeries('Spend, projection and limit', 'money', [12, 9], {
      description:
        "Month-to-date spend (all products), the exporter's projected month-end spend and the monthly limit. Spend restarts from 0 each UTC month.",
      targets: [
        { expr: spendTotal, legend: 'Spend ({{currency}})' },
        { expr: projected, legend: 'Projected month-end ({{currency}})' },
        { expr: limit, legend: 'Limit ({{currency}})' },
      ],
      overrides: SPEND_PROJECTION_LIMIT_STYLE,
    }),
  );
  b.add(
    timeSeries('Spend by product', 'money', [12, 9], {
      description:
        "Month-to-date spend by product, stacked to the API's total: `api` (API usage), `vibe` (Vibe usage) and `other` (the rest of the total, derived); `unitemised` (the whole total) when the API's own parts exceed its total.",
      custom: { stacking: { group: 'A', mode: 'normal' }, fillOpacity: 40 },
      targets: [{ expr: `sum by (org, currency, product) (${one('mistral_spend')})`, legend: '{{product}} ({{currency}})' }],
    }),
  );
  b.add(
    stateTimeline('Limit and payment state over time', 'none', [24, 5], {
      description: 'When the spend limit was reached (the API refusing calls) and when the last payment attempt had failed.',
      mappings: YES_NO_BAD,
      targets: [
        { expr: one('mistral_spend_limit_reached'), legend: 'Spend limit reached' },
        { expr: one('mistral_payment_last_failed'), legend: 'Last payment failed' },
      ],
    }),
  );

  b.row('Cost this month');
  b.add(
    barGauge('Cost by category this month', 'money', [12, 11], {
      description:
        'Month-to-date cost by usage category (`completion`, `chat`, `ocr`, `vibe_code_completion`, ...), computed by the exporter from the usage quantities and unit prices (the API has no cost field). Entries without a price are left out (see "Usage entries without a price").',
      targets: [
        { expr: `sort_desc(sum by (org, category, currency) (${one('mistral_usage_cost')}))`, legend: '{{category}} ({{currency}})' },
      ],
    }),
  );
  b.add(
    table('Cost by model this month', 'money', [12, 11], {
      description: 'Month-to-date cost by model (the billing metric, a dated model id), all categories together, most expensive first.',
      table: { rename: { model: 'Model', currency: 'Currency', Value: 'Cost' }, sortBy: 'Cost' },
      targets: [{ expr: `sum by (org, model, currency) (${one('mistral_usage_cost')})` }],
    }),
  );
  b.add(
    timeSeries('Month-to-date cost by category', 'money', [24, 9], {
      description: 'Month-to-date cost by usage category over time, stacked; it restarts from 0 each month.',
      custom: { stacking: { group: 'A', mode: 'normal' }, fillOpacity: 40 },
      targets: [{ expr: `sum by (org, category, currency) (${one('mistral_usage_cost')})`, legend: '{{category}} ({{currency}})' }],
    }),
  );

  b.row('Tokens and rate limits');
  b.add(
    barGauge('Monthly token limit used, per model', 'percentunit', [12, 10], {
      description:
        'Month-to-date tokens of each model (all categories and token types) divided by its monthly token limit from the rate-limit endpoint. Models without a monthly limit are not shown.',
      min: 0,
      max: 1,
      thresholds: OF_LIMIT,
      targets: [
        {
          expr: `sort_desc(sum by (org, model) (${one('mistral_usage_tokens')}) / on (org, model) (max by (org, model) (${sel('mistral_rate_limit_tokens_per_month')}) > 0))`,
          legend: '{{model}}',
        },
      ],
    }),
  );
  b.add(
    table('Tokens this month and token limits, per model', 'short', [12, 10], {
      description:
        'Per model: month-to-date tokens (all categories and token types), the monthly token limit and the tokens-per-minute limit. A blank cell: no such figure for that model.',
      table: {
        rename: { model: 'Model', 'Value #A': 'Used this month', 'Value #B': 'Monthly limit', 'Value #C': 'Per-minute limit' },
        sortBy: 'Used this month',
      },
      targets: [
        { expr: `sum by (org, model) (${one('mistral_usage_tokens')})` },
        { expr: `max by (org, model) (${sel('mistral_rate_limit_tokens_per_month')})` },
        { expr: `max by (org, model) (${sel('mistral_rate_limit_tokens_per_minute')})` },
      ],
    }),
  );
  b.add(
    timeSeries('Tokens this month by model', 'short', [18, 9], {
      description: 'Month-to-date tokens by model (all categories and token types), over time; they restart from 0 each month.',
      targets: [{ expr: `sum by (org, model) (${one('mistral_usage_tokens')})`, legend: '{{model}}' }],
    }),
  );
  b.add(
    stat('Request rate limit', 'reqps', [6, 9], {
      description: "The organization's request rate limit from the rate-limit endpoint.",
      targets: [{ expr: one('mistral_rate_limit_requests_per_second'), legend: 'requests per second' }],
    }),
  );

  b.row('Data quality');
  b.add(dataAge('usage|spend_limit|rate_limit', 'the billing figures'));
  b.add(
    stat('Usage entries without a price', 'short', [8, 5], {
      description:
        'Usage entries for which the usage answer has no matching unit price: their cost is left out of the cost panels (the exporter logs each once). 0 when every entry is priced.',
      thresholds: ANY_IS_WARNING,
      targets: [{ expr: `sum by (org) (${one('mistral_usage_unpriced_entries')})`, legend: 'unpriced entries' }],
    }),
  );
  b.add(
    stat('Usage entries with an ambiguous price', 'short', [8, 5], {
      description:
        'Usage entries that do not say their API zone or service tier while the matching prices differ by it: their cost is left out of the cost panels (the exporter logs each category once; `check` says what to do). USAGE_ASSUMED_SERVICE_TIER settles the tier. 0 when every entry has one price; empty while the usage figures are missing.',
      thresholds: ANY_IS_WARNING,
      targets: [
        {
          // 0 only when the usage figures are there: the gauge has no sample when no entry is ambiguous.
          expr: `sum by (org) (${one('mistral_usage_ambiguous_price_entries')}) or sum by (org) (0 * ${one('mistral_usage_unpriced_entries')})`,
          legend: 'ambiguous entries',
        },
      ],
    }),
  );

  addReconciliation(b);
  auditRow(b);
  workspaceRow(b);

  return dashboard({
    uid: 'mistral-spend',
    title: 'Mistral: spend and limits',
    description:
      'Month-to-date spend against the monthly spend limit, its projection, cost by category and model, and token use against the monthly token limits.',
    time: 'now-30d',
    board: b,
    annotations: AUDIT_ANNOTATIONS,
    workspace: WORKSPACE_LIMIT,
  });
}

// ---------------------------------------------------------------- workspaces (on the spend dashboard)

/** The workspaces of the `workspace` variable: those with a monthly limit. */
const WORKSPACE_LIMIT = 'mistral_workspace_spend_limit';
const IN_WORKSPACE = 'workspace_id=~"$workspace"';

/** `expr` (with `job` and `workspace_id`) with the workspace's name joined on from mistral_workspace_info. */
function named(expr: string): string {
  return `${expr} * on (job, org, workspace_id) group_left (workspace_name) ${one('mistral_workspace_info', IN_WORKSPACE)}`;
}

/**
 * One row per workspace with a monthly limit (repeated by the `workspace`
 * variable): its month-to-date cost from usage against its own limit, and the
 * projection, as the organization's spend has them above.
 */
function workspaceRow(b: Board): void {
  const cost = named(`sum by (job, org, workspace_id, currency) (${one('mistral_usage_cost', IN_WORKSPACE)})`);
  const projected = named(one('mistral_workspace_spend_projected', IN_WORKSPACE));
  const limit = named(one(WORKSPACE_LIMIT, IN_WORKSPACE));
  const needs =
    'The cost and the ratio need usage per workspace (MISTRAL_WORKSPACE_IDS=all, or a list naming the workspace); the limit comes from GET workspaces.';
  b.row('Workspace $workspace', { repeat: 'workspace' });
  b.add(
    gauge('Workspace limit utilisation', 'percentunit', [6, 8], {
      description: `The workspace's month-to-date cost divided by its own monthly limit (\`mistral_workspace_spend_limit_utilization_ratio\`); at 100% the API refuses the workspace's requests (other workspaces go on). ${needs}`,
      min: 0,
      max: 1,
      thresholds: OF_LIMIT,
      targets: [{ expr: named(one('mistral_workspace_spend_limit_utilization_ratio', IN_WORKSPACE)), legend: '{{workspace_name}}' }],
    }),
  );
  b.add(
    stat('Workspace cost, projection and limit', 'money', [6, 8], {
      description: `The workspace's month-to-date cost (Σ \`mistral_usage_cost\`), its projected month-end cost (linear in the time elapsed in the UTC month; absent on its first day) and its own monthly limit. ${needs}`,
      options: { textMode: 'value_and_name', orientation: 'horizontal' },
      targets: [
        { expr: cost, legend: 'Cost ({{currency}})' },
        { expr: projected, legend: 'Projected ({{currency}})' },
        { expr: limit, legend: 'Limit ({{currency}})' },
      ],
    }),
  );
  b.add(
    timeSeries('Workspace cost over time', 'money', [12, 8], {
      description: `The workspace's month-to-date cost, its projected month-end cost and its monthly limit over time. Cost restarts from 0 each UTC month. ${needs}`,
      targets: [
        { expr: cost, legend: '{{workspace_name}}: cost ({{currency}})' },
        { expr: projected, legend: '{{workspace_name}}: projected month-end ({{currency}})' },
        { expr: limit, legend: '{{workspace_name}}: limit ({{currency}})' },
      ],
      overrides: SPEND_PROJECTION_LIMIT_STYLE,
    }),
  );
}

// ---------------------------------------------------------------- reconciliation

/**
 * The computed cost against the spend the API reports, as the recording rule
 * job_currency:mistral_usage_cost:relative_difference_to_reported_spend
 * (prometheus/alerts.yml) computes it, from the raw metrics so that the
 * panels work without the rules and filter on $job and $instance:
 * organization-wide cost only (no workspace_id), per job, organization and currency, and
 * the difference only from 10 units of reported spend on (docs/metrics.md,
 * "Reconciliation").
 */
function addReconciliation(b: Board): void {
  const computed = `sum by (job, org, currency) (${one('mistral_usage_cost', 'workspace_id=""')})`;
  const reported = `max by (job, org, currency) (${sel('mistral_spend_reported', 'field="total_usage"')})`;
  const difference = `(${computed} - on (job, org, currency) ${reported}) / on (job, org, currency) (${reported} >= 10)`;
  const how =
    'The cost is computed by the exporter (Σ quantity × unit price over every category, API and Vibe Code); the spend is `total_usage` of the spend-limit endpoint, what the limit counts. Compared per exporter (job) and organization in one currency, and only without MISTRAL_WORKSPACE_IDS (a sum over some workspaces is not the organization).';
  const when =
    'The difference is (computed − reported) / reported, shown from 10 units of reported spend on (a ratio on cents is noise): empty before that, early in the month. MistralComputedCostDrift fires beyond ±5% for 3 hours, not on the first UTC day of a month. Off by more: a price changed on Mistral\'s side, entries are unpriced (see "Usage entries without a price") or of a new kind; spend outside usage shows as a steady gap.';

  b.row('Reconciliation');
  b.add(
    timeSeries('Computed cost vs reported spend', 'money', [16, 9], {
      description: `Month-to-date cost computed from usage and unit prices, the month-to-date spend the Admin API reports itself, and their relative difference (right axis, %). ${how} ${when}`,
      targets: [
        { expr: computed, legend: 'Computed from usage ({{currency}})' },
        { expr: reported, legend: 'Reported by the API ({{currency}})' },
        { expr: difference, legend: 'Difference ({{currency}})' },
      ],
      overrides: [
        {
          matcher: { id: 'byFrameRefID', options: 'C' },
          properties: [
            { id: 'unit', value: 'percentunit' },
            { id: 'decimals', value: 1 },
            { id: 'custom.axisPlacement', value: 'right' },
            { id: 'custom.lineStyle', value: { dash: [10, 10], fill: 'dash' } },
            { id: 'custom.fillOpacity', value: 0 },
          ],
        },
      ],
    }),
  );
  b.add(
    stat('Computed cost off the reported spend', 'percentunit', [8, 9], {
      description: `How far the cost computed from usage is from the spend the Admin API reports, now: (computed − reported) / reported. Orange beyond ±5%, where MistralComputedCostDrift fires once it lasts 3 hours. ${how} ${when}`,
      decimals: 1,
      thresholds: [
        [null, 'orange'],
        [-0.05, 'green'],
        [0.05, 'orange'],
      ],
      targets: [{ expr: difference, legend: '{{currency}}' }],
    }),
  );
}

// ---------------------------------------------------------------- audit log (on the spend dashboard)

/** Audit event types whose changes are marked on the spend dashboard's graphs. */
const LIMIT_EVENTS = 'billing.monthly_limit.updated|billing.workspace_monthly_limit.updated|billing.shared_budget_override.updated';
const KEY_EVENTS = 'api_key.rotate|api_key.create|api_key.delete|admin_api_key.created|admin_api_key.delete';

/**
 * When an event of `types` happened, within a scrape or two: the newest
 * instant of its type changed, or its series appeared (the first of its
 * type since the exporter started: `changes` alone would miss it).
 */
function auditEventQuery(types: string): string {
  const newest = `mistral_audit_event_last_timestamp_seconds{${JOB_INSTANCE}, event_type=~"${types}"}`;
  return `max by (org, event_type) (changes(${newest}[$__rate_interval])) > 0 or (max by (org, event_type) (${newest}) unless max by (org, event_type) (${newest} offset $__rate_interval))`;
}

function auditAnnotation(name: string, types: string, color: string): Json {
  return {
    datasource: { type: 'prometheus', uid: '${datasource}' },
    enable: true,
    hide: false,
    iconColor: color,
    name,
    expr: auditEventQuery(types),
    step: '1m',
    titleFormat: name,
    textFormat: '{{org}} {{event_type}}',
    tagKeys: 'event_type',
    useValueForTime: false,
  };
}

const AUDIT_ANNOTATIONS: Json[] = [
  auditAnnotation('Spend limit changed', LIMIT_EVENTS, 'orange'),
  auditAnnotation('API key created, rotated or deleted', KEY_EVENTS, 'purple'),
];

function auditRow(b: Board): void {
  b.row('Audit log');
  b.add(
    barGauge('Audit events in the last 24 hours', 'short', [12, 8], {
      description:
        'Entries of each audit event type of AUDIT_EVENT_TYPES (limits, keys, members, roles, workspaces by default) in the 24 hours before the last refresh, from the audit-logs endpoint. Empty while the exporter has not read the 24 hours whole. Limit changes and key changes are also marked on the graphs above (annotations).',
      targets: [{ expr: `max by (org, event_type) (${sel('mistral_audit_events')})`, legend: '{{event_type}}' }],
    }),
  );
  b.add(
    table('Latest audit event of each type', 'dateTimeAsIso', [12, 8], {
      description:
        'When the newest entry of each audit event type was logged, among those read since the exporter started (it starts with the last 24 hours). A type without any is not listed.',
      table: { rename: { event_type: 'Event type', Value: 'Latest' }, sortBy: 'Latest' },
      targets: [{ expr: `max by (org, event_type) (${sel('mistral_audit_event_last_timestamp_seconds')}) * 1000` }],
    }),
  );
}

// ---------------------------------------------------------------- le Chat

function lechatDashboard(): Json {
  const b = new Board();
  const inWindow = (metric: string, title: string, what: string): PanelSpec =>
    stat(title, 'short', [4, 4], {
      description: `${what} in the window chosen above (\`window\`: the last N complete UTC days, \`1d\` is yesterday; absent until the Admin API has loaded yesterday), all users.${FRESHNESS_NOTE}`,
      targets: [{ expr: one(metric, WINDOW), legend: '{{window}}' }],
    });

  b.row('Users');
  b.add(
    barGauge('Active users per window', 'short', [8, 5], {
      description: 'Users with at least one le Chat message in each configured window (ANALYTICS_WINDOWS: the last N complete UTC days).',
      targets: [{ expr: `max by (org, window) (${sel('mistral_lechat_active_users')})`, legend: '{{window}}' }],
    }),
  );
  b.add(
    stat('Daily active users', 'short', [4, 5], {
      description: 'Users active in le Chat on the last complete UTC day (by_time_stats).',
      targets: [{ expr: one('mistral_lechat_daily_active_users'), legend: 'yesterday' }],
    }),
  );
  b.add(
    stat('Messages per active user', 'short', [4, 5], {
      description: 'Messages in the chosen window divided by the users active in it.',
      decimals: 1,
      targets: [{ expr: windowRatio('mistral_lechat_messages', 'mistral_lechat_active_users'), legend: 'messages per user' }],
    }),
  );
  b.add(dataAge('lechat_by_user|lechat_by_agent|lechat_by_time|users|users_invite', 'the le Chat figures and seats'));
  b.add(
    timeSeries('Daily active users over time', 'short', [12, 8], {
      description: 'Users active in le Chat on the last complete UTC day, as it was at each point in time: one step per day.',
      targets: [{ expr: one('mistral_lechat_daily_active_users'), legend: 'daily active users' }],
    }),
  );
  b.add(
    timeSeries('Active users per window over time', 'short', [12, 8], {
      description: 'Users with at least one message in each window (the last N complete UTC days), over time.',
      targets: [{ expr: `max by (org, window) (${sel('mistral_lechat_active_users')})`, legend: '{{window}}' }],
    }),
  );

  b.row('Activity in the window');
  b.add(inWindow('mistral_lechat_messages', 'Messages', 'Messages sent'));
  b.add(inWindow('mistral_lechat_conversations', 'Conversations', 'Conversations with at least one message'));
  b.add(inWindow('mistral_lechat_files', 'Files', 'Files sent'));
  b.add(inWindow('mistral_lechat_images', 'Images', 'Images sent'));
  b.add(inWindow('mistral_lechat_spreadsheets', 'Spreadsheets', 'Spreadsheets sent'));
  b.add(inWindow('mistral_lechat_messages_to_agents', 'Messages to agents', 'Messages sent to agents'));
  b.add(
    timeSeries('Messages, conversations and files over time', 'short', [16, 8], {
      description:
        'Messages, conversations, messages to agents and files in the chosen window (the last N complete UTC days), as it was at each point in time.',
      targets: [
        { expr: one('mistral_lechat_messages', WINDOW), legend: 'messages ({{window}})' },
        { expr: one('mistral_lechat_conversations', WINDOW), legend: 'conversations ({{window}})' },
        { expr: one('mistral_lechat_messages_to_agents', WINDOW), legend: 'messages to agents ({{window}})' },
        { expr: one('mistral_lechat_files', WINDOW), legend: 'files ({{window}})' },
      ],
    }),
  );
  b.add(
    gauge('Share of messages sent to agents', 'percentunit', [8, 8], {
      description: 'Messages sent to agents as a share of all messages in the chosen window.',
      min: 0,
      max: 1,
      targets: [{ expr: windowRatio('mistral_lechat_messages_to_agents', 'mistral_lechat_messages'), legend: 'to agents' }],
    }),
  );

  b.row('Agents');
  b.add(
    table('Top agents', 'short', [16, 10], {
      description:
        'Per agent in the chosen window: messages, distinct users and conversations, busiest first. Only the LECHAT_AGENT_LIMIT busiest agents (on the longest window) have series; the exporter health dashboard shows how many were left out.',
      table: {
        rename: { agent_id: 'Agent', 'Value #A': 'Messages', 'Value #B': 'Users', 'Value #C': 'Conversations' },
        sortBy: 'Messages',
        hide: ['window'],
      },
      targets: [
        { expr: `max by (org, agent_id) (${sel('mistral_lechat_agent_messages', WINDOW)})` },
        { expr: `max by (org, agent_id) (${sel('mistral_lechat_agent_users', WINDOW)})` },
        { expr: `max by (org, agent_id) (${sel('mistral_lechat_agent_conversations', WINDOW)})` },
      ],
    }),
  );
  b.add(
    barGauge('Top 10 agents by messages', 'short', [8, 10], {
      description: 'The ten agents with the most messages in the chosen window.',
      targets: [
        { expr: `topk by (org) (10, max by (org, agent_id) (${sel('mistral_lechat_agent_messages', WINDOW)}))`, legend: '{{agent_id}}' },
      ],
    }),
  );

  seatsRow(b);

  b.row('Per user (opt-in: LECHAT_USER_METRICS=true)', { collapsed: true });
  b.add(
    table('Most active users', 'short', [10, 10], {
      description:
        'The 20 users with the most messages in the chosen window, with their conversations. Per-user series exist only with LECHAT_USER_METRICS=true; `user_id` is a keyed hash when LECHAT_USER_ID_HASH_KEY is set.',
      table: { rename: { user_id: 'User', 'Value #A': 'Messages', 'Value #B': 'Conversations' }, sortBy: 'Messages' },
      targets: [
        { expr: `topk by (org) (20, max by (org, user_id) (${sel('mistral_lechat_user_messages', WINDOW)}))` },
        {
          expr: `max by (org, user_id) (${sel('mistral_lechat_user_conversations', WINDOW)}) and on (org, user_id) topk by (org) (20, max by (org, user_id) (${sel('mistral_lechat_user_messages', WINDOW)}))`,
        },
      ],
    }),
  );
  b.add(
    table('Least recently active users', 'dateTimeAsIso', [9, 10], {
      description:
        'The 20 users whose last message (within the longest window) is oldest: seats going idle. Per-user series exist only with LECHAT_USER_METRICS=true.',
      table: { rename: { user_id: 'User', Value: 'Last message' } },
      targets: [
        { expr: `bottomk by (org) (20, max by (org, user_id) (${sel('mistral_lechat_user_last_message_timestamp_seconds')})) * 1000` },
      ],
    }),
  );
  b.add(
    stat('Users idle for 14 days or more', 'short', [5, 10], {
      description:
        'Users kept in the per-user series whose last message is 14 days old or more. Per-user series exist only with LECHAT_USER_METRICS=true.',
      targets: [
        {
          expr: `count by (org) (time() - max by (org, user_id) (${sel('mistral_lechat_user_last_message_timestamp_seconds')}) >= 14 * 86400)`,
          legend: 'idle users',
        },
      ],
    }),
  );

  return dashboard({
    uid: 'mistral-lechat',
    title: 'Mistral: le Chat (Vibe Work) adoption',
    description:
      'le Chat adoption from the Admin API analytics: active users, messages, conversations and files per window of complete UTC days, the busiest agents, and the seats: members, seats by product and plan, idle le Chat seats and invitations.',
    time: 'now-30d',
    window: 'mistral_lechat_active_users',
    board: b,
  });
}

/** Members, seats, idle le Chat seats and invitations (GET users, users-invite), on the adoption dashboard. */
function seatsRow(b: Board): void {
  const CHAT = 'product="chat"';
  const IDLE_NOTE =
    ' Absent (empty, never 0) while le Chat by_user_stats is not read or not complete, its longest window is shorter than SEAT_IDLE_DAYS, or its ids match no member: the exporter logs why.';
  b.row('Seats');
  b.add(
    stat('Members', 'short', [4, 5], {
      description: 'Members of the organization (GET users).',
      targets: [{ expr: one('mistral_members'), legend: 'members' }],
    }),
  );
  b.add(
    stat('le Chat seats', 'short', [4, 5], {
      description: 'le Chat seats whose member has access, every plan together (GET users).',
      targets: [{ expr: `sum by (org) (${one('mistral_seats', CHAT)})`, legend: 'seats' }],
    }),
  );
  b.add(
    stat('Idle le Chat seats', 'short', [4, 5], {
      description: `le Chat seats with access whose member, a member for SEAT_IDLE_DAYS (default 30) at least, sent no message in the last SEAT_IDLE_DAYS complete UTC days.${IDLE_NOTE}`,
      thresholds: ANY_IS_WARNING,
      targets: [{ expr: one('mistral_seats_idle', CHAT), legend: 'idle seats' }],
    }),
  );
  b.add(
    gauge('Share of le Chat seats idle', 'percentunit', [4, 5], {
      description: `Idle le Chat seats as a share of the le Chat seats with access.${IDLE_NOTE}`,
      min: 0,
      max: 1,
      targets: [{ expr: `${one('mistral_seats_idle', CHAT)} / on (org) sum by (org) (${one('mistral_seats', CHAT)})`, legend: 'idle' }],
    }),
  );
  b.add(
    stat('Idle seats, monthly cost', 'money', [4, 5], {
      description: `What the idle le Chat seats cost per month: idle seats times SEAT_PRICE_CHAT (empty without that setting).${IDLE_NOTE}`,
      targets: [{ expr: `max by (org, currency) (${sel('mistral_seats_idle_cost', CHAT)})`, legend: '{{currency}}' }],
    }),
  );
  b.add(
    stat('Invitations', 'short', [4, 5], {
      description: 'Invitations sent and not accepted, pending or expired (the invitations of GET users).',
      targets: [{ expr: `max by (org, state) (${sel('mistral_invites')})`, legend: '{{state}}' }],
    }),
  );
  b.add(
    table('Seats by product and plan', 'short', [12, 8], {
      description:
        'Seats per product (`chat`, `mistral_code`, ...) and plan: with access, and assigned (with access or not). Assigned seats without access are cancelled or suspended ones; the status codes are in the next table.',
      table: { rename: { product: 'Product', plan: 'Plan', 'Value #A': 'With access', 'Value #B': 'Assigned' }, sortBy: 'With access' },
      targets: [
        { expr: `max by (org, product, plan) (${sel('mistral_seats')})` },
        { expr: `sum by (org, product, plan) (max without (instance, pod) (${sel('mistral_seats_assigned')}))` },
      ],
    }),
  );
  b.add(
    table('Seats assigned, by status', 'short', [12, 8], {
      description:
        "Every seat assigned, by product, plan and the API's status code as given (`none`: null; `unknown`: a product listed in subscription_types only). The spec does not say what each code means.",
      table: { rename: { product: 'Product', plan: 'Plan', status: 'Status', Value: 'Seats' }, sortBy: 'Seats' },
      targets: [{ expr: `max by (org, product, plan, status) (${sel('mistral_seats_assigned')})` }],
    }),
  );
  b.add(
    timeSeries('le Chat seats and idle seats over time', 'short', [24, 8], {
      description: `le Chat seats with access, and the idle ones, over time.${IDLE_NOTE}`,
      targets: [
        { expr: `sum by (org) (${one('mistral_seats', CHAT)})`, legend: 'seats' },
        { expr: one('mistral_seats_idle', CHAT), legend: 'idle' },
      ],
    }),
  );
}

// ---------------------------------------------------------------- Vibe Code

function vibeDashboard(): Json {
  const b = new Board();
  const VIBE_WINDOW_NOTE = ' Vibe Code windows are the last N complete UTC days (`1d` is yesterday): figures change once a day.';
  const byLabel = (metric: string, label: string, title: string, what: string, w: number, h: number): PanelSpec =>
    barGauge(title, 'short', [w, h], {
      description: `${what} in the chosen window, by \`${label}\`.${VIBE_WINDOW_NOTE}`,
      targets: [{ expr: `sort_desc(max by (org, ${label}) (${sel(metric, WINDOW)}))`, legend: `{{${label}}}` }],
    });
  const acceptance = windowRatio('mistral_vibe_next_edit_suggestions', 'mistral_vibe_next_edit_suggestions', 'outcome="accepted"');

  b.row('Adoption');
  b.add(
    stat('Daily active users', 'short', [4, 5], {
      description: 'Vibe Code users active on the last complete UTC day, all clients.',
      targets: [{ expr: one('mistral_vibe_daily_active_users'), legend: 'yesterday' }],
    }),
  );
  b.add(
    barGauge('Daily active users by client', 'short', [8, 5], {
      description:
        'Vibe Code users active on the last complete UTC day, per client (`cli`, `acp`, `programmatic`); a user may use several.',
      targets: [{ expr: `max by (org, client) (${sel('mistral_vibe_daily_active_users_by_client')})`, legend: '{{client}}' }],
    }),
  );
  b.add(
    stat('Next-edit daily active users', 'short', [4, 5], {
      description: 'Users of IDE next-edit suggestions on the last complete UTC day.',
      targets: [{ expr: one('mistral_vibe_next_edit_daily_active_users'), legend: 'yesterday' }],
    }),
  );
  b.add(dataAge('vibe_by_workspace|vibe_by_organization', 'the Vibe Code figures'));
  b.add(
    timeSeries('Daily active users over time', 'short', [24, 8], {
      description: 'Vibe Code daily active users (last complete UTC day) over time: all clients, per client, and next-edit users.',
      targets: [
        { expr: one('mistral_vibe_daily_active_users'), legend: 'all clients' },
        { expr: `max by (org, client) (${sel('mistral_vibe_daily_active_users_by_client')})`, legend: '{{client}}' },
        { expr: one('mistral_vibe_next_edit_daily_active_users'), legend: 'next-edit' },
      ],
    }),
  );

  b.row('Sessions and prompts');
  b.add(byLabel('mistral_vibe_sessions', 'client', 'Sessions by client', 'Vibe Code sessions', 6, 7));
  b.add(byLabel('mistral_vibe_prompts', 'client', 'Prompts by client', 'User prompts', 6, 7));
  b.add(
    stat('Prompts per session', 'short', [4, 7], {
      description: `User prompts divided by sessions in the chosen window, all clients.${VIBE_WINDOW_NOTE}`,
      decimals: 1,
      targets: [{ expr: windowRatio('mistral_vibe_prompts', 'mistral_vibe_sessions'), legend: 'prompts per session' }],
    }),
  );
  b.add(
    stat('Session time', 's', [4, 7], {
      description: `Total time spent in Vibe Code sessions in the chosen window.${VIBE_WINDOW_NOTE}`,
      targets: [{ expr: one('mistral_vibe_session_duration_seconds', WINDOW), legend: '{{window}}' }],
    }),
  );
  b.add(
    stat('Average session length', 's', [4, 7], {
      description: `Total session time divided by the number of sessions in the chosen window.${VIBE_WINDOW_NOTE}`,
      targets: [{ expr: windowRatio('mistral_vibe_session_duration_seconds', 'mistral_vibe_sessions'), legend: 'per session' }],
    }),
  );
  b.add(
    timeSeries('Sessions by client over time', 'short', [24, 8], {
      description: `Sessions in the chosen window by client, as they were at each point in time.${VIBE_WINDOW_NOTE}`,
      targets: [{ expr: `max by (org, client) (${sel('mistral_vibe_sessions', WINDOW)})`, legend: '{{client}}' }],
    }),
  );

  b.row('Tokens');
  b.add(
    barGauge('Tokens by model', 'short', [12, 8], {
      description: `Tokens consumed by Vibe Code in the chosen window per model (as Vibe names it, e.g. an alias such as devstral-latest), all token types.${VIBE_WINDOW_NOTE}`,
      targets: [{ expr: `sort_desc(sum by (org, model) (${one('mistral_vibe_tokens', WINDOW)}))`, legend: '{{model}}' }],
    }),
  );
  b.add(
    barGauge('Tokens by type', 'short', [12, 8], {
      description: `Tokens consumed by Vibe Code in the chosen window by token type (\`input\`, \`output\`, \`cached\`), all models.${VIBE_WINDOW_NOTE}`,
      targets: [{ expr: `sort_desc(sum by (org, token_type) (${one('mistral_vibe_tokens', WINDOW)}))`, legend: '{{token_type}}' }],
    }),
  );

  b.row('Tool calls');
  b.add(byLabel('mistral_vibe_tool_calls', 'status', 'Tool calls by status', 'Tool calls', 6, 8));
  b.add(
    stat('Tool call success rate', 'percentunit', [4, 8], {
      description: `Successful tool calls as a share of all tool calls (success, failure, skipped) in the chosen window.${VIBE_WINDOW_NOTE}`,
      thresholds: [
        [null, 'red'],
        [0.8, 'orange'],
        [0.95, 'green'],
      ],
      targets: [{ expr: windowRatio('mistral_vibe_tool_calls', 'mistral_vibe_tool_calls', 'status="success"'), legend: 'success rate' }],
    }),
  );
  b.add(byLabel('mistral_vibe_tool_call_approvals', 'approval', 'Tool calls by approval mode', 'Tool calls', 6, 8));
  b.add(
    barGauge('Top tools', 'short', [8, 8], {
      description: `The ten most called tools in the chosen window. Only the VIBE_TOOL_LIMIT most called tools (on the longest window) have series.${VIBE_WINDOW_NOTE}`,
      targets: [{ expr: `topk by (org) (10, max by (org, tool) (${sel('mistral_vibe_tool_calls_by_tool', WINDOW)}))`, legend: '{{tool}}' }],
    }),
  );

  b.row('Next-edit suggestions');
  b.add(byLabel('mistral_vibe_next_edit_suggestions', 'outcome', 'Suggestions by outcome', 'IDE next-edit suggestions', 8, 8));
  b.add(
    stat('Acceptance rate', 'percentunit', [4, 8], {
      description: `Accepted next-edit suggestions as a share of all suggestions shown (accepted, rejected, timeout, aborted, dismissed) in the chosen window.${VIBE_WINDOW_NOTE}`,
      targets: [{ expr: acceptance, legend: 'accepted' }],
    }),
  );
  b.add(byLabel('mistral_vibe_next_edit_suggestions_by_surface', 'surface', 'Suggestions by surface', 'Next-edit suggestions shown', 6, 8));
  b.add(
    byLabel('mistral_vibe_next_edit_lines', 'change', 'Lines changed through next-edit', 'Lines of code modified through next-edit', 6, 8),
  );
  b.add(
    timeSeries('Acceptance rate over time', 'percentunit', [24, 7], {
      description: `Next-edit acceptance rate in the chosen window, as it was at each point in time.${VIBE_WINDOW_NOTE}`,
      min: 0,
      max: 1,
      targets: [{ expr: acceptance, legend: 'acceptance rate' }],
    }),
  );

  return dashboard({
    uid: 'mistral-vibe-code',
    title: 'Mistral: Vibe Code',
    description:
      'Vibe Code adoption from the Admin API analytics: sessions, prompts, users, tokens, tool calls and IDE next-edit suggestions over the last complete UTC days.',
    time: 'now-30d',
    window: 'mistral_vibe_sessions',
    board: b,
  });
}

// ---------------------------------------------------------------- exporter

function exporterDashboard(): Json {
  const b = new Board();
  const UP_MAPPINGS: Mapping[] = [
    { value: '0', text: 'DOWN', color: 'red' },
    { value: '1', text: 'UP', color: 'green' },
  ];
  const perEndpoint = '{{api_endpoint}} · {{instance}}';
  /** Per-second rate of an exporter counter, summed by organization and the given labels (instance among them). */
  const rate = (by: string, metric: string, ...matchers: string[]) =>
    `sum by (org, ${by}) (rate(${sel(metric, ...matchers)}[$__rate_interval]))`;
  const REQUESTS = 'mistral_exporter_api_requests_total';
  const requests = rate('instance', REQUESTS);

  b.row('Status');
  b.add(
    stat('Scrape target up', 'none', [4, 7], {
      description: 'Whether Prometheus could scrape each exporter replica (`up`).',
      mappings: UP_MAPPINGS,
      targets: [{ expr: sel('up'), legend: '{{instance}}' }],
    }),
  );
  b.add(
    stat('Admin API endpoints up', 'none', [12, 7], {
      description:
        'Whether the last refresh of each Admin API endpoint succeeded (`mistral_up`), per replica. While an endpoint is down, its last good answer is served until MAX_STALENESS.',
      mappings: UP_MAPPINGS,
      options: { textMode: 'value_and_name' },
      targets: [{ expr: sel('mistral_up'), legend: perEndpoint }],
    }),
  );
  b.add(
    table('Build info', 'none', [8, 7], {
      description: 'Version, revision and Node.js version of each exporter replica.',
      table: { rename: { instance: 'Instance', version: 'Version', revision: 'Revision', nodejs_version: 'Node.js' }, hide: ['Value'] },
      targets: [{ expr: sel('mistral_exporter_build_info') }],
    }),
  );
  b.add(
    stateTimeline('Admin API endpoints up over time', 'none', [24, 9], {
      description: 'History of `mistral_up` per endpoint and replica: red while refreshes of the endpoint fail.',
      mappings: UP_MAPPINGS,
      targets: [{ expr: sel('mistral_up'), legend: perEndpoint }],
    }),
  );

  b.row('Freshness');
  b.add(
    timeSeries('Time since last successful refresh', 's', [12, 8], {
      description:
        'Seconds since each endpoint was last refreshed successfully, per replica. It grows while refreshes fail; compare with the refresh interval.',
      targets: [{ expr: `time() - ${sel('mistral_exporter_last_success_timestamp_seconds')}`, legend: perEndpoint }],
    }),
  );
  b.add(
    barGauge('Data age in refresh intervals', 'short', [12, 8], {
      description:
        "Time since the last successful refresh divided by the endpoint's refresh interval: about 1 when healthy; the staleness alert fires above 3.",
      decimals: 1,
      thresholds: [
        [null, 'green'],
        [1.5, 'orange'],
        [3, 'red'],
      ],
      targets: [
        {
          expr: `(time() - ${sel('mistral_exporter_last_success_timestamp_seconds')}) / ${sel('mistral_exporter_refresh_interval_seconds')}`,
          legend: perEndpoint,
        },
      ],
    }),
  );
  b.add(
    timeSeries('Refresh duration', 's', [12, 8], {
      description: 'How long the last refresh of each endpoint took, retries included, per replica.',
      targets: [{ expr: sel('mistral_exporter_refresh_duration_seconds'), legend: perEndpoint }],
    }),
  );
  b.add(
    table('Refresh interval and last duration', 's', [12, 8], {
      description: 'Per endpoint and replica: the configured refresh interval and how long the last refresh took.',
      table: {
        rename: { api_endpoint: 'Endpoint', instance: 'Instance', 'Value #A': 'Refresh interval', 'Value #B': 'Last refresh took' },
      },
      targets: [{ expr: sel('mistral_exporter_refresh_interval_seconds') }, { expr: sel('mistral_exporter_refresh_duration_seconds') }],
    }),
  );
  b.add(
    stat('Analytics complete until', 'dateTimeAsIso', [24, 5], {
      description:
        "Per analytics endpoint, the end of the last UTC day the Admin API has loaded (`mistral_analytics_complete_until_timestamp_seconds`): today's UTC midnight once yesterday is loaded. Earlier, yesterday is not loaded yet: the windows and daily active users of that endpoint are absent until it is (never 0). le Chat by user / by agent also lag after a day on which nobody used le Chat.",
      options: { textMode: 'value_and_name' },
      targets: [
        {
          expr: `max by (org, api_endpoint) (${sel('mistral_analytics_complete_until_timestamp_seconds')}) * 1000`,
          legend: '{{api_endpoint}}',
        },
      ],
    }),
  );

  b.row('Admin API requests');
  b.add(
    timeSeries('Admin API requests by status code', 'reqps', [12, 8], {
      description: 'HTTP requests sent to the Admin API per second, by status code (`error`: network error or timeout), per replica.',
      targets: [{ expr: rate('instance, code', REQUESTS), legend: '{{code}} · {{instance}}' }],
    }),
  );
  b.add(
    timeSeries('Admin API requests by endpoint', 'reqps', [12, 8], {
      description: 'HTTP requests sent to the Admin API per second, by endpoint, per replica.',
      targets: [{ expr: rate('instance, api_endpoint', REQUESTS), legend: perEndpoint }],
    }),
  );
  b.add(
    timeSeries('Admin API error ratio', 'percentunit', [8, 8], {
      description: 'Share of Admin API requests that did not answer 2xx (other status codes and network errors), per replica.',
      min: 0,
      targets: [{ expr: `(${rate('instance', REQUESTS, 'code!~"2.."')} or ${requests} * 0) / ${requests}`, legend: '{{instance}}' }],
    }),
  );
  b.add(
    timeSeries('Retries by reason', 'reqps', [8, 8], {
      description: 'Admin API requests tried again per second, by reason (`429`, `5xx`, `timeout`, `network`), per replica.',
      targets: [{ expr: rate('instance, reason', 'mistral_exporter_api_retries_total'), legend: '{{reason}} · {{instance}}' }],
    }),
  );
  b.add(
    timeSeries('Parse errors', 'short', [8, 8], {
      description:
        'Admin API answers that were not JSON or not of a shape the exporter understands, per endpoint and replica, counted per interval.',
      targets: [
        {
          expr: `sum by (org, instance, api_endpoint) (increase(${sel('mistral_exporter_parse_errors_total')}[$__rate_interval]))`,
          legend: perEndpoint,
        },
      ],
    }),
  );

  b.row('Caps and paths');
  b.add(
    stat('Parse errors in the time range', 'short', [6, 7], {
      description: "Admin API answers the exporter could not understand during the dashboard's time range, per replica.",
      thresholds: ANY_IS_WARNING,
      targets: [
        { expr: `sum by (org, instance) (increase(${sel('mistral_exporter_parse_errors_total')}[$__range]))`, legend: '{{instance}}' },
      ],
    }),
  );
  b.add(
    barGauge('Series dropped by cardinality caps', 'short', [8, 7], {
      description:
        'Series a cardinality cap left out in the last good refresh, per capped metric (LECHAT_AGENT_LIMIT, LECHAT_USER_LIMIT, VIBE_TOOL_LIMIT). 0 when nothing was left out.',
      thresholds: ANY_IS_WARNING,
      targets: [{ expr: `max by (org, metric) (${sel('mistral_exporter_series_dropped')})`, legend: '{{metric}}' }],
    }),
  );
  b.add(
    table('Path variant in use', 'none', [10, 7], {
      description:
        'The Admin API path each endpoint is read from, relative to MISTRAL_ADMIN_API_URL (MISTRAL_ADMIN_API_PATH_LAYOUT picks among the documented variants).',
      table: { rename: { api_endpoint: 'Endpoint', path: 'Path' }, hide: ['Value'] },
      targets: [{ expr: `max by (org, api_endpoint, path) (${sel('mistral_exporter_endpoint_path_info')})` }],
    }),
  );

  return dashboard({
    uid: 'mistral-exporter',
    title: 'Mistral: exporter health',
    description:
      'Health of the Mistral Admin API exporter: endpoint refreshes, data freshness, Admin API requests, retries and errors, cardinality caps, versions.',
    time: 'now-6h',
    board: b,
  });
}

// ---------------------------------------------------------------- API keys

function apiKeysDashboard(): Json {
  const b = new Board();
  const DAY = 86_400;
  const expiry = one('mistral_api_key_expiry_timestamp_seconds');
  const lastUsed = one('mistral_api_key_last_used_timestamp_seconds');
  const created = one('mistral_api_key_created_timestamp_seconds');
  const keys = one('mistral_api_keys');
  /** A count of keys, 0 rather than nothing when the keys were read and none matches (nothing when they were not). */
  const countOrZero = (expr: string) => `count by (org) (${expr}) or on (org) (0 * sum by (org) (${keys}))`;
  const KEY_COLUMNS = { key_name: 'Name', key_id: 'Key id', product: 'Product', workspace_id: 'Workspace' };
  const PER_KEY_NOTE =
    ' Only the API_KEYS_LIMIT keys expiring soonest have per-key series (the exporter health dashboard shows how many were left out). Dates are days: 00:00 UTC.';

  b.row('API keys');
  b.add(
    stat('API keys', 'short', [6, 5], {
      description: 'Keys of the organization (GET api-keys), every product and workspace; expired keys count until they are deleted.',
      targets: [{ expr: `sum by (org) (${keys})`, legend: 'keys' }],
    }),
  );
  b.add(
    stat('Expiring within 14 days', 'short', [6, 5], {
      description: `Keys whose expiration date is within the next 14 days and not past: MistralApiKeyExpiringSoon fires for each.${PER_KEY_NOTE}`,
      thresholds: ANY_IS_WARNING,
      targets: [{ expr: countOrZero(`(${expiry} - time()) < 14 * ${DAY} > 0`), legend: 'expiring' }],
    }),
  );
  b.add(
    stat('Expired, not deleted', 'short', [6, 5], {
      description: `Keys past their expiration date that are still listed: they no longer work; delete them.${PER_KEY_NOTE}`,
      thresholds: ANY_IS_WARNING,
      targets: [{ expr: countOrZero(`${expiry} <= time()`), legend: 'expired' }],
    }),
  );
  b.add(
    stat('Not used for 90 days', 'short', [6, 5], {
      description: `Keys that have not expired and were last used more than 90 days ago, or never used and created more than 90 days ago: MistralApiKeyUnused fires for each.${PER_KEY_NOTE}`,
      thresholds: ANY_IS_WARNING,
      targets: [
        {
          expr: countOrZero(
            `((time() - ${lastUsed} > 90 * ${DAY}) or (time() - ${created} > 90 * ${DAY} unless ${lastUsed})) unless (${expiry} <= time())`,
          ),
          legend: 'unused',
        },
      ],
    }),
  );
  b.add(
    table('Keys by expiry', 'd', [14, 11], {
      description: `Days until each key expires, soonest first; negative: expired. Keys that never expire are not listed.${PER_KEY_NOTE}`,
      decimals: 1,
      thresholds: [
        [null, 'red'],
        [0, 'orange'],
        [14, 'green'],
      ],
      table: { rename: { ...KEY_COLUMNS, Value: 'Days left' }, sortBy: 'Days left' },
      options: { sortBy: [{ displayName: 'Days left', desc: false }] },
      targets: [{ expr: `(${expiry} - time()) / ${DAY}` }],
    }),
  );
  b.add(
    table('Keys by product and workspace', 'short', [10, 11], {
      description:
        'Keys per product (`api`, `mistral_code`, `vibe`; `unknown` when the API names none) and workspace (blank: a key of no workspace).',
      table: { rename: { product: 'Product', workspace_id: 'Workspace', Value: 'Keys' }, sortBy: 'Keys' },
      targets: [{ expr: `sum by (org, product, workspace_id) (${keys})` }],
    }),
  );
  b.add(
    table('Keys by last use', 'd', [14, 11], {
      description: `Days since each key was last used, longest first. Keys never used are not listed (see "Keys never used").${PER_KEY_NOTE}`,
      decimals: 0,
      table: { rename: { ...KEY_COLUMNS, Value: 'Days since last use' }, sortBy: 'Days since last use' },
      targets: [{ expr: `(time() - ${lastUsed}) / ${DAY}` }],
    }),
  );
  b.add(
    table('Keys never used', 'd', [10, 11], {
      description: `Keys without a last use, with the days since they were created, oldest first (keys without a creation date are not listed).${PER_KEY_NOTE}`,
      decimals: 0,
      table: { rename: { ...KEY_COLUMNS, Value: 'Days since creation' }, sortBy: 'Days since creation' },
      targets: [{ expr: `(time() - ${created} unless ${lastUsed}) / ${DAY}` }],
    }),
  );
  b.add(
    timeSeries('Keys over time, by product', 'short', [16, 8], {
      description: 'Keys listed, by product, over time: keys created and deleted show as steps.',
      custom: { stacking: { group: 'A', mode: 'normal' }, fillOpacity: 30 },
      targets: [{ expr: `sum by (org, product) (${keys})`, legend: '{{product}}' }],
    }),
  );
  b.add(
    barGauge('Keys by product', 'short', [8, 8], {
      description: 'Keys per product, all workspaces together.',
      targets: [{ expr: `sort_desc(sum by (org, product) (${keys}))`, legend: '{{product}}' }],
    }),
  );
  b.add(dataAge('api_keys', 'the API keys'));

  return dashboard({
    uid: 'mistral-api-keys',
    title: 'Mistral: API keys',
    description:
      'The API keys of the organization: how many, by product and workspace, which expire soon or have expired, and which are not used.',
    time: 'now-7d',
    board: b,
  });
}

/** File name in grafana-dashboards/ → dashboard JSON. */
export function buildDashboards(): Record<string, Json> {
  return {
    'mistral-spend.json': spendDashboard(),
    'mistral-lechat.json': lechatDashboard(),
    'mistral-vibe-code.json': vibeDashboard(),
    'mistral-exporter.json': exporterDashboard(),
    'mistral-api-keys.json': apiKeysDashboard(),
  };
}

/** The file's exact text. */
export function renderDashboard(dashboard: Json): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
