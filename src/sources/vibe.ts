import { Big } from 'big.js';
import type { AnalyticsWindow } from '../config/settings.js';
import { topIds } from './caps.js';
import { family, type FamilyDef } from './families.js';
import { expectArray, expectObject, optionalString, toDecimal, type Json, type JsonObject } from './parse.js';
import { ParseError, type FetchContext, type MetricFamily, type Sample, type Source } from './types.js';
import { completeDays, completeDaysRange, lastCompleteDay, longest } from './windows.js';

/**
 * GET analytics/vibe (by_workspace, by_organization): Vibe Code's daily
 * series, one row per UTC day in parallel arrays. One request covers the
 * longest window; each window's figures are the sum over its complete UTC
 * days (today, being partial, never counts), and counts that do not add up
 * across days (active users) are the last complete day's.
 */

/** A day's row of an array: its `YYYY-MM-DD` day and its counts, exact. */
export interface DayRow<K extends string> {
  day: string;
  counts: Record<K, Big>;
}

/** A day's row that also names something (a model, a tool). */
export interface KeyedDayRow<K extends string> extends DayRow<K> {
  key: string;
}

const CLIENTS = ['cli', 'acp', 'programmatic'] as const;
type Client = (typeof CLIENTS)[number];
type ClientCount = Client | 'total';

const SESSION_FIELDS = {
  total: 'nb_sessions',
  cli: 'nb_sessions_cli',
  acp: 'nb_sessions_acp',
  programmatic: 'nb_sessions_programmatic',
} as const satisfies Record<ClientCount, string>;

const PROMPT_FIELDS = {
  total: 'nb_prompts_total',
  cli: 'nb_prompts_cli',
  acp: 'nb_prompts_acp',
  programmatic: 'nb_prompts_programmatic',
} as const satisfies Record<ClientCount, string>;

const ACTIVE_USER_FIELDS = {
  total: 'nb_active_users_total',
  cli: 'nb_active_users_cli',
  acp: 'nb_active_users_acp',
  programmatic: 'nb_active_users_programmatic',
} as const satisfies Record<ClientCount, string>;

const TOKEN_FIELDS = { input: 'input_tokens', output: 'output_tokens', cached: 'cached_tokens' } as const;
type TokenType = keyof typeof TOKEN_FIELDS;

const TOOL_CALL_FIELDS = {
  success: 'status_success',
  failure: 'status_failure',
  skipped: 'status_skipped',
  ask: 'approval_ask',
  always: 'approval_always',
  never: 'approval_never',
} as const;
type ToolCallCount = keyof typeof TOOL_CALL_FIELDS;
const STATUSES = ['success', 'failure', 'skipped'] as const satisfies readonly ToolCallCount[];
const APPROVALS = ['ask', 'always', 'never'] as const satisfies readonly ToolCallCount[];

const TOOL_COUNT_FIELDS = { count: 'count' } as const;
const DURATION_FIELDS = { hours: 'total_duration_hours' } as const;

const OUTCOME_FIELDS = {
  accepted: 'outcome_accepted',
  rejected: 'outcome_rejected',
  timeout: 'outcome_timeout',
  aborted: 'outcome_aborted',
  dismissed: 'outcome_dismissed',
  widget: 'surface_widget',
  ghost_text: 'surface_ghost_text',
} as const;
type SuggestionCount = keyof typeof OUTCOME_FIELDS;
const OUTCOMES = ['accepted', 'rejected', 'timeout', 'aborted', 'dismissed'] as const satisfies readonly SuggestionCount[];
const SURFACES = ['widget', 'ghost_text'] as const satisfies readonly SuggestionCount[];

const NEXT_EDIT_USER_FIELDS = { users: 'nb_active_users' } as const;
const LOC_FIELDS = { inserted: 'lines_inserted', deleted: 'lines_deleted', unchanged: 'lines_unchanged' } as const;
type LocCount = keyof typeof LOC_FIELDS;
const CHANGES = ['inserted', 'deleted', 'unchanged'] as const satisfies readonly LocCount[];

/** One by_workspace answer (one workspace's, or the organization's). */
export interface VibeWorkspaceReport {
  /** Set when the report is one workspace's. */
  workspaceId: string | undefined;
  sessions: DayRow<ClientCount>[];
  prompts: DayRow<ClientCount>[];
  activeUsers: DayRow<ClientCount>[];
  /** key: the model as Vibe names it. */
  tokens: KeyedDayRow<TokenType>[];
  toolCalls: DayRow<ToolCallCount>[];
  /** key: the tool name. */
  toolCallsByName: KeyedDayRow<'count'>[];
  sessionDurations: DayRow<'hours'>[];
}

export interface VibeWorkspaceSnapshot {
  /** When the answer was fetched (ms since the epoch): the windows' "now". */
  fetchedAt: number;
  windows: readonly AnalyticsWindow[];
  toolLimit: number;
  /** True when fetched per workspace (the families then carry workspace_id). */
  byWorkspace: boolean;
  reports: VibeWorkspaceReport[];
}

/** The by_organization answer (next-edit suggestions). */
export interface VibeOrganizationReport {
  suggestions: DayRow<SuggestionCount>[];
  activeUsers: DayRow<'users'>[];
  modifiedLines: DayRow<LocCount>[];
}

export interface VibeOrganizationSnapshot {
  /** When the answer was fetched (ms since the epoch): the windows' "now". */
  fetchedAt: number;
  windows: readonly AnalyticsWindow[];
  report: VibeOrganizationReport;
}

const WORKSPACE_WHERE = 'vibe by_workspace';
const ORGANIZATION_WHERE = 'vibe by_organization';
const ZERO = new Big(0);
const DAY = /^\d{4}-\d{2}-\d{2}/;

// ---------------------------------------------------------------- parsing

/** The array under `field`, or undefined when it is missing or null. */
function optionalArray(root: JsonObject, field: string, where: string): Json[] | undefined {
  const v = root[field];
  return v === undefined || v === null ? undefined : expectArray(v, `${where}.${field}`);
}

/** `YYYY-MM-DD`; a date-time keeps its date part. */
function readDay(v: Json | undefined, where: string): string {
  const s = optionalString(v, where);
  if (s === undefined) throw new ParseError(`${where}: missing`);
  const m = DAY.exec(s.trim());
  if (!m) throw new ParseError(`${where}: expected a YYYY-MM-DD day, got the string ${JSON.stringify(s.slice(0, 40))}`);
  return m[0];
}

/** The counts named by `fields`; a missing or null count is 0. */
function readCounts<K extends string>(row: JsonObject, where: string, fields: Readonly<Record<K, string>>): Record<K, Big> {
  const counts = {} as Record<K, Big>;
  for (const [key, field] of Object.entries(fields) as Array<[K, string]>) {
    const v = row[field];
    counts[key] = v === undefined || v === null ? ZERO : toDecimal(v, `${where}.${field}`);
  }
  return counts;
}

function dayRows<K extends string>(list: Json[] | undefined, at: string, fields: Readonly<Record<K, string>>): DayRow<K>[] {
  return (list ?? []).map((raw, i) => {
    const where = `${at}[${i}]`;
    const row = expectObject(raw, where);
    return { day: readDay(row.day, `${where}.day`), counts: readCounts(row, where, fields) };
  });
}

function keyedDayRows<K extends string>(
  list: Json[] | undefined,
  at: string,
  keyField: string,
  fields: Readonly<Record<K, string>>,
): KeyedDayRow<K>[] {
  return (list ?? []).map((raw, i) => {
    const where = `${at}[${i}]`;
    const row = expectObject(raw, where);
    return {
      day: readDay(row.day, `${where}.day`),
      key: optionalString(row[keyField], `${where}.${keyField}`) || 'unknown',
      counts: readCounts(row, where, fields),
    };
  });
}

const WORKSPACE_ARRAYS = [
  'sessions',
  'user_prompts',
  'active_users',
  'consumed_tokens',
  'tool_calls',
  'tool_calls_by_name',
  'session_durations',
] as const;

/** Parses one by_workspace answer. Throws ParseError on a shape it cannot read. */
export function parseVibeWorkspace(body: unknown, workspaceId?: string): VibeWorkspaceReport {
  const w = WORKSPACE_WHERE;
  const root = expectObject(body, w);
  const a = Object.fromEntries(WORKSPACE_ARRAYS.map((f) => [f, optionalArray(root, f, w)])) as Record<
    (typeof WORKSPACE_ARRAYS)[number],
    Json[] | undefined
  >;
  if (WORKSPACE_ARRAYS.every((f) => a[f] === undefined)) {
    throw new ParseError(`${w}: the answer has none of the known arrays (${WORKSPACE_ARRAYS.join(', ')})`);
  }
  return {
    workspaceId,
    sessions: dayRows(a.sessions, `${w}.sessions`, SESSION_FIELDS),
    prompts: dayRows(a.user_prompts, `${w}.user_prompts`, PROMPT_FIELDS),
    activeUsers: dayRows(a.active_users, `${w}.active_users`, ACTIVE_USER_FIELDS),
    tokens: keyedDayRows(a.consumed_tokens, `${w}.consumed_tokens`, 'model', TOKEN_FIELDS),
    toolCalls: dayRows(a.tool_calls, `${w}.tool_calls`, TOOL_CALL_FIELDS),
    toolCallsByName: keyedDayRows(a.tool_calls_by_name, `${w}.tool_calls_by_name`, 'tool_name', TOOL_COUNT_FIELDS),
    sessionDurations: dayRows(a.session_durations, `${w}.session_durations`, DURATION_FIELDS),
  };
}

const ORGANIZATION_ARRAYS = ['next_edit_suggestions', 'next_edit_active_users', 'next_edit_modified_loc'] as const;

/** Parses the by_organization answer. Throws ParseError on a shape it cannot read. */
export function parseVibeOrganization(body: unknown): VibeOrganizationReport {
  const w = ORGANIZATION_WHERE;
  const root = expectObject(body, w);
  const a = Object.fromEntries(ORGANIZATION_ARRAYS.map((f) => [f, optionalArray(root, f, w)])) as Record<
    (typeof ORGANIZATION_ARRAYS)[number],
    Json[] | undefined
  >;
  if (ORGANIZATION_ARRAYS.every((f) => a[f] === undefined)) {
    throw new ParseError(`${w}: the answer has none of the known arrays (${ORGANIZATION_ARRAYS.join(', ')})`);
  }
  return {
    suggestions: dayRows(a.next_edit_suggestions, `${w}.next_edit_suggestions`, OUTCOME_FIELDS),
    activeUsers: dayRows(a.next_edit_active_users, `${w}.next_edit_active_users`, NEXT_EDIT_USER_FIELDS),
    modifiedLines: dayRows(a.next_edit_modified_loc, `${w}.next_edit_modified_loc`, LOC_FIELDS),
  };
}

// ---------------------------------------------------------------- sums

const num = (b: Big): number => Number(b.toString());

/** Σ of each count over the rows whose day is in `days`; 0 for a day with no row. */
function sumDays<K extends string>(rows: readonly DayRow<K>[], days: ReadonlySet<string>, keys: readonly K[]): Record<K, Big> {
  const sums = Object.fromEntries(keys.map((k) => [k, ZERO])) as Record<K, Big>;
  for (const row of rows) {
    if (!days.has(row.day)) continue;
    for (const k of keys) sums[k] = sums[k].plus(row.counts[k]);
  }
  return sums;
}

/** Σ per key (model, tool) over the rows whose day is in `days`. */
function sumByKey<K extends string>(
  rows: readonly KeyedDayRow<K>[],
  days: ReadonlySet<string>,
  keys: readonly K[],
): Map<string, Record<K, Big>> {
  const out = new Map<string, Record<K, Big>>();
  for (const row of rows) {
    if (!days.has(row.day)) continue;
    let sums = out.get(row.key);
    if (!sums) {
      sums = Object.fromEntries(keys.map((k) => [k, ZERO])) as Record<K, Big>;
      out.set(row.key, sums);
    }
    for (const k of keys) sums[k] = sums[k].plus(row.counts[k]);
  }
  return out;
}

/** Each window with the set of its complete UTC days. */
function windowDays(now: number, windows: readonly AnalyticsWindow[]): Array<{ label: string; days: Set<string> }> {
  return windows.map((w) => ({ label: w.label, days: new Set(completeDays(now, w.days)) }));
}

/** `total` minus the named clients, when positive, else 0. */
function other(sums: Record<ClientCount, Big>): Big {
  const rest = CLIENTS.reduce((r, c) => r.minus(sums[c]), sums.total);
  return rest.gt(0) ? rest : ZERO;
}

/**
 * The tools kept by the cap for one report: ranked once on the longest
 * window, the same tools in every window.
 */
function rankTools(report: VibeWorkspaceReport, snapshot: VibeWorkspaceSnapshot): { kept: Set<string>; dropped: number } {
  if (snapshot.windows.length === 0) return { kept: new Set(), dropped: 0 };
  const days = new Set(completeDays(snapshot.fetchedAt, longest(snapshot.windows).days));
  const scores = new Map([...sumByKey(report.toolCallsByName, days, ['count'])].map(([tool, s]) => [tool, num(s.count)]));
  return topIds(scores, snapshot.toolLimit);
}

// ---------------------------------------------------------------- families

const REFRESHED = 'Refreshed in the background on an interval, not at scrape time.';
const WS = 'GET analytics/vibe by_workspace';
const ORG = 'GET analytics/vibe by_organization';
const WINDOW = "summed over the window's complete UTC days";

export const VIBE_WORKSPACE_FAMILIES = {
  sessions: {
    name: 'mistral_vibe_sessions',
    help: `Vibe Code sessions ${WINDOW}, by client (nb_sessions_cli, _acp, _programmatic; other = nb_sessions minus those, when positive) from ${WS}. ${REFRESHED}`,
    labelNames: ['client', 'window'],
  },
  prompts: {
    name: 'mistral_vibe_prompts',
    help: `Vibe Code user prompts ${WINDOW}, by client (nb_prompts_cli, _acp, _programmatic; other = nb_prompts_total minus those, when positive) from ${WS}. ${REFRESHED}`,
    labelNames: ['client', 'window'],
  },
  tokens: {
    name: 'mistral_vibe_tokens',
    help: `Vibe Code consumed tokens ${WINDOW}, per model as Vibe names it (consumed_tokens of ${WS}). ${REFRESHED}`,
    labelNames: ['model', 'token_type', 'window'],
  },
  toolCalls: {
    name: 'mistral_vibe_tool_calls',
    help: `Vibe Code tool calls ${WINDOW}, by status (tool_calls status_* of ${WS}). ${REFRESHED}`,
    labelNames: ['status', 'window'],
  },
  approvals: {
    name: 'mistral_vibe_tool_call_approvals',
    help: `Vibe Code tool calls ${WINDOW}, by approval mode (tool_calls approval_* of ${WS}). ${REFRESHED}`,
    labelNames: ['approval', 'window'],
  },
  toolCallsByTool: {
    name: 'mistral_vibe_tool_calls_by_tool',
    help: `Vibe Code tool calls ${WINDOW}, per tool name (tool_calls_by_name of ${WS}); capped at VIBE_TOOL_LIMIT tools, the most called on the longest window, the same tools in every window. ${REFRESHED}`,
    labelNames: ['tool', 'window'],
  },
  sessionDuration: {
    name: 'mistral_vibe_session_duration_seconds',
    help: `Total Vibe Code session time ${WINDOW} (session_durations total_duration_hours of ${WS}, in seconds). ${REFRESHED}`,
    labelNames: ['window'],
  },
  dailyActiveUsers: {
    name: 'mistral_vibe_daily_active_users',
    help: `Vibe Code active users on the last complete UTC day (active_users nb_active_users_total of ${WS}). ${REFRESHED}`,
    labelNames: [],
  },
  dailyActiveUsersByClient: {
    name: 'mistral_vibe_daily_active_users_by_client',
    help: `Vibe Code active users on the last complete UTC day, per client (active_users nb_active_users_* of ${WS}); a user may use several clients. ${REFRESHED}`,
    labelNames: ['client'],
  },
} as const satisfies Record<string, FamilyDef>;

export const VIBE_ORGANIZATION_FAMILIES = {
  suggestions: {
    name: 'mistral_vibe_next_edit_suggestions',
    help: `Vibe Code next-edit suggestions ${WINDOW}, by outcome (next_edit_suggestions outcome_* of ${ORG}). ${REFRESHED}`,
    labelNames: ['outcome', 'window'],
  },
  suggestionsBySurface: {
    name: 'mistral_vibe_next_edit_suggestions_by_surface',
    help: `Vibe Code next-edit suggestions ${WINDOW}, by where they were shown (next_edit_suggestions surface_* of ${ORG}). ${REFRESHED}`,
    labelNames: ['surface', 'window'],
  },
  dailyActiveUsers: {
    name: 'mistral_vibe_next_edit_daily_active_users',
    help: `Vibe Code next-edit active users on the last complete UTC day (next_edit_active_users nb_active_users of ${ORG}). ${REFRESHED}`,
    labelNames: [],
  },
  lines: {
    name: 'mistral_vibe_next_edit_lines',
    help: `Lines of code modified by Vibe Code next edits ${WINDOW}, by change (next_edit_modified_loc lines_* of ${ORG}). ${REFRESHED}`,
    labelNames: ['change', 'window'],
  },
} as const satisfies Record<string, FamilyDef>;

/** Pure: the by_workspace metric families of a snapshot. */
export function vibeWorkspaceFamilies(snapshot: VibeWorkspaceSnapshot): MetricFamily[] {
  const ws = snapshot.byWorkspace;
  const withWs = (def: FamilyDef): FamilyDef => (ws ? { ...def, labelNames: [...def.labelNames, 'workspace_id'] } : def);
  const windows = windowDays(snapshot.fetchedAt, snapshot.windows);
  const yesterday = new Set([lastCompleteDay(snapshot.fetchedAt)]);
  const clientKeys = ['total', ...CLIENTS] as const;

  const sessions: Sample[] = [];
  const prompts: Sample[] = [];
  const tokens: Sample[] = [];
  const toolCalls: Sample[] = [];
  const approvals: Sample[] = [];
  const byTool: Sample[] = [];
  const duration: Sample[] = [];
  const activeUsers: Sample[] = [];
  const activeByClient: Sample[] = [];

  for (const report of snapshot.reports) {
    const wsLabel: Record<string, string> = ws ? { workspace_id: report.workspaceId ?? '' } : {};
    const perClient = (out: Sample[], sums: Record<ClientCount, Big>, window: string) => {
      for (const client of CLIENTS) out.push({ labels: { client, window, ...wsLabel }, value: num(sums[client]) });
      out.push({ labels: { client: 'other', window, ...wsLabel }, value: num(other(sums)) });
    };

    // Models and tools of the longest window get a series in every window (0 where unused).
    const all = windows.at(-1)?.days ?? new Set<string>();
    const models = [...sumByKey(report.tokens, all, []).keys()];
    const { kept } = rankTools(report, snapshot);
    const tools = [...kept].sort();

    for (const { label: window, days } of windows) {
      perClient(sessions, sumDays(report.sessions, days, clientKeys), window);
      perClient(prompts, sumDays(report.prompts, days, clientKeys), window);

      const modelSums = sumByKey(report.tokens, days, ['input', 'output', 'cached']);
      for (const model of models) {
        for (const tokenType of ['input', 'output', 'cached'] as const) {
          const value = modelSums.get(model)?.[tokenType] ?? ZERO;
          tokens.push({ labels: { model, token_type: tokenType, window, ...wsLabel }, value: num(value) });
        }
      }

      const calls = sumDays(report.toolCalls, days, [...STATUSES, ...APPROVALS]);
      for (const status of STATUSES) toolCalls.push({ labels: { status, window, ...wsLabel }, value: num(calls[status]) });
      for (const approval of APPROVALS) approvals.push({ labels: { approval, window, ...wsLabel }, value: num(calls[approval]) });

      const toolSums = sumByKey(report.toolCallsByName, days, ['count']);
      for (const tool of tools) {
        byTool.push({ labels: { tool, window, ...wsLabel }, value: num(toolSums.get(tool)?.count ?? ZERO) });
      }

      const hours = sumDays(report.sessionDurations, days, ['hours']).hours;
      duration.push({ labels: { window, ...wsLabel }, value: num(hours.times(3600)) });
    }

    const active = sumDays(report.activeUsers, yesterday, clientKeys);
    activeUsers.push({ labels: { ...wsLabel }, value: num(active.total) });
    for (const client of CLIENTS) activeByClient.push({ labels: { client, ...wsLabel }, value: num(active[client]) });
  }

  const F = VIBE_WORKSPACE_FAMILIES;
  return [
    family(withWs(F.sessions), sessions),
    family(withWs(F.prompts), prompts),
    family(withWs(F.tokens), tokens),
    family(withWs(F.toolCalls), toolCalls),
    family(withWs(F.approvals), approvals),
    family(withWs(F.toolCallsByTool), byTool),
    family(withWs(F.sessionDuration), duration),
    family(withWs(F.dailyActiveUsers), activeUsers),
    family(withWs(F.dailyActiveUsersByClient), activeByClient),
  ];
}

/** Per capped metric, the series the tool cap left out (tools dropped × windows, over all reports). */
export function vibeWorkspaceSeriesDropped(snapshot: VibeWorkspaceSnapshot): Record<string, number> {
  const dropped = snapshot.reports.reduce((n, report) => n + rankTools(report, snapshot).dropped, 0);
  return { [VIBE_WORKSPACE_FAMILIES.toolCallsByTool.name]: dropped * snapshot.windows.length };
}

/** Pure: the by_organization metric families of a snapshot. */
export function vibeOrganizationFamilies(snapshot: VibeOrganizationSnapshot): MetricFamily[] {
  const { report } = snapshot;
  const suggestions: Sample[] = [];
  const bySurface: Sample[] = [];
  const lines: Sample[] = [];

  for (const { label: window, days } of windowDays(snapshot.fetchedAt, snapshot.windows)) {
    const s = sumDays(report.suggestions, days, [...OUTCOMES, ...SURFACES]);
    for (const outcome of OUTCOMES) suggestions.push({ labels: { outcome, window }, value: num(s[outcome]) });
    for (const surface of SURFACES) bySurface.push({ labels: { surface, window }, value: num(s[surface]) });
    const loc = sumDays(report.modifiedLines, days, CHANGES);
    for (const change of CHANGES) lines.push({ labels: { change, window }, value: num(loc[change]) });
  }
  const users = sumDays(report.activeUsers, new Set([lastCompleteDay(snapshot.fetchedAt)]), ['users']).users;

  const F = VIBE_ORGANIZATION_FAMILIES;
  return [
    family(F.suggestions, suggestions),
    family(F.suggestionsBySurface, bySurface),
    family(F.dailyActiveUsers, [{ labels: {}, value: num(users) }]),
    family(F.lines, lines),
  ];
}

// ---------------------------------------------------------------- sources

export function vibeByWorkspaceSource(options: {
  windows: readonly AnalyticsWindow[];
  workspaceIds: readonly string[];
  toolLimit: number;
}): Source<VibeWorkspaceSnapshot> {
  const { windows, workspaceIds, toolLimit } = options;
  return {
    endpoint: 'vibe_by_workspace',
    describe: 'GET analytics/vibe (by_workspace)',
    async fetch(ctx: FetchContext): Promise<VibeWorkspaceSnapshot> {
      const range = completeDaysRange(ctx.now, longest(windows).days);
      const targets: Array<string | undefined> = workspaceIds.length > 0 ? [...workspaceIds] : [undefined];
      const reports = await Promise.all(
        targets.map(async (workspaceId) => {
          const query = workspaceId === undefined ? { ...range } : { ...range, workspace_id: workspaceId };
          const res = await ctx.api.get('vibe_by_workspace', { query, signal: ctx.signal });
          return parseVibeWorkspace(res.body, workspaceId);
        }),
      );
      return { fetchedAt: ctx.now, windows, toolLimit, byWorkspace: workspaceIds.length > 0, reports };
    },
    toFamilies: vibeWorkspaceFamilies,
    seriesDropped: vibeWorkspaceSeriesDropped,
  };
}

export function vibeByOrganizationSource(options: { windows: readonly AnalyticsWindow[] }): Source<VibeOrganizationSnapshot> {
  const { windows } = options;
  return {
    endpoint: 'vibe_by_organization',
    describe: 'GET analytics/vibe (by_organization)',
    async fetch(ctx: FetchContext): Promise<VibeOrganizationSnapshot> {
      const query = completeDaysRange(ctx.now, longest(windows).days);
      const res = await ctx.api.get('vibe_by_organization', { query: { ...query }, signal: ctx.signal });
      return { fetchedAt: ctx.now, windows, report: parseVibeOrganization(res.body) };
    },
    toFamilies: vibeOrganizationFamilies,
  };
}
