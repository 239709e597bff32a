import type { Big } from 'big.js';
import type { AnalyticsWindow } from '../config/settings.js';
import { topIds } from './caps.js';
import { checkEchoedWindow } from './echo.js';
import { decimalToNumber, family, REFRESHED, type FamilyDef } from './families.js';
import { defineEndpoint, type MetricFamily, type Reader, type Sample, type Unreadable } from './types.js';
import { UnreadableTally } from './unreadable.js';
import {
  allLoaded,
  dayRows,
  keyedDayRows,
  knownArrays,
  loadedDays,
  refuseIfNothingReadable,
  sumByKey,
  sumDays,
  vibeCompleteUntil,
  WINDOW,
  windowDays,
  ZERO,
  type DayRow,
  type KeyedDayRow,
} from './vibe-daily.js';
import { completeDays, completeDaysRange, lastCompleteDay, longest } from './windows.js';
import { warnOnce } from '../logger.js';
import { perWorkspace, reportNotFollowed, withWorkspace, workspaceLabel, workspaceTargets } from './per-workspace.js';

/**
 * GET analytics Vibe Code by_workspace: sessions, prompts, tokens, tool calls
 * and active users, per workspace when configured, over each window's
 * complete UTC days.
 */

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
  /** The days with an element in any array: loaded (see vibe-daily.ts). */
  loaded: Set<string>;
}

export interface VibeWorkspaceSnapshot {
  /** When the answer was fetched (ms since the epoch): the windows' "now". */
  fetchedAt: number;
  windows: readonly AnalyticsWindow[];
  toolLimit: number;
  /** True when fetched per workspace (the families then carry workspace_id). */
  byWorkspace: boolean;
  reports: VibeWorkspaceReport[];
  unreadable?: Unreadable;
}

const WORKSPACE_WHERE = 'vibe by_workspace';

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
export function parseVibeWorkspace(body: unknown, workspaceId?: string, tally = new UnreadableTally()): VibeWorkspaceReport {
  const w = WORKSPACE_WHERE;
  const a = knownArrays(body, w, WORKSPACE_ARRAYS);
  const report: VibeWorkspaceReport = {
    workspaceId,
    sessions: dayRows(a.sessions, `${w}.sessions`, SESSION_FIELDS, tally),
    prompts: dayRows(a.user_prompts, `${w}.user_prompts`, PROMPT_FIELDS, tally),
    activeUsers: dayRows(a.active_users, `${w}.active_users`, ACTIVE_USER_FIELDS, tally),
    tokens: keyedDayRows(a.consumed_tokens, `${w}.consumed_tokens`, 'model', TOKEN_FIELDS, tally),
    toolCalls: dayRows(a.tool_calls, `${w}.tool_calls`, TOOL_CALL_FIELDS, tally),
    toolCallsByName: keyedDayRows(a.tool_calls_by_name, `${w}.tool_calls_by_name`, 'tool_name', TOOL_COUNT_FIELDS, tally),
    sessionDurations: dayRows(a.session_durations, `${w}.session_durations`, DURATION_FIELDS, tally),
    loaded: new Set(),
  };
  report.loaded = loadedDays([
    report.sessions,
    report.prompts,
    report.activeUsers,
    report.tokens,
    report.toolCalls,
    report.toolCallsByName,
    report.sessionDurations,
  ]);
  refuseIfNothingReadable(
    w,
    [
      [a.sessions, report.sessions],
      [a.user_prompts, report.prompts],
      [a.active_users, report.activeUsers],
      [a.consumed_tokens, report.tokens],
      [a.tool_calls, report.toolCalls],
      [a.tool_calls_by_name, report.toolCallsByName],
      [a.session_durations, report.sessionDurations],
    ],
    tally,
  );
  return report;
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
  const scores = new Map([...sumByKey(report.toolCallsByName, days, ['count'])].map(([tool, s]) => [tool, decimalToNumber(s.count)]));
  return topIds(scores, snapshot.toolLimit);
}

const WS = 'GET analytics/vibe by_workspace';

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

/** Pure: the by_workspace metric families of a snapshot. */
export function vibeWorkspaceFamilies(snapshot: VibeWorkspaceSnapshot): MetricFamily[] {
  const ws = snapshot.byWorkspace;
  const withWs = (def: FamilyDef): FamilyDef => withWorkspace(def, ws);
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
    const wsLabel = workspaceLabel(ws, report.workspaceId);
    const perClient = (out: Sample[], sums: Record<ClientCount, Big>, window: string) => {
      for (const client of CLIENTS) out.push({ labels: { client, window, ...wsLabel }, value: decimalToNumber(sums[client]) });
      out.push({ labels: { client: 'other', window, ...wsLabel }, value: decimalToNumber(other(sums)) });
    };

    // Models and tools of the longest window get a series in every window (0 where unused).
    const all = windows.at(-1)?.days ?? new Set<string>();
    const models = [...sumByKey(report.tokens, all, []).keys()];
    const { kept } = rankTools(report, snapshot);
    const tools = [...kept].sort();

    // Rule 5: a window needing a day the API has not loaded is not published.
    for (const { label: window, days } of windows.filter((w) => allLoaded(w.days, report.loaded))) {
      perClient(sessions, sumDays(report.sessions, days, clientKeys), window);
      perClient(prompts, sumDays(report.prompts, days, clientKeys), window);

      const modelSums = sumByKey(report.tokens, days, ['input', 'output', 'cached']);
      for (const model of models) {
        for (const tokenType of ['input', 'output', 'cached'] as const) {
          const value = modelSums.get(model)?.[tokenType] ?? ZERO;
          tokens.push({ labels: { model, token_type: tokenType, window, ...wsLabel }, value: decimalToNumber(value) });
        }
      }

      const calls = sumDays(report.toolCalls, days, [...STATUSES, ...APPROVALS]);
      for (const status of STATUSES) toolCalls.push({ labels: { status, window, ...wsLabel }, value: decimalToNumber(calls[status]) });
      for (const approval of APPROVALS)
        approvals.push({ labels: { approval, window, ...wsLabel }, value: decimalToNumber(calls[approval]) });

      const toolSums = sumByKey(report.toolCallsByName, days, ['count']);
      for (const tool of tools) {
        byTool.push({ labels: { tool, window, ...wsLabel }, value: decimalToNumber(toolSums.get(tool)?.count ?? ZERO) });
      }

      const hours = sumDays(report.sessionDurations, days, ['hours']).hours;
      duration.push({ labels: { window, ...wsLabel }, value: decimalToNumber(hours.times(3600)) });
    }

    if (!allLoaded(yesterday, report.loaded)) continue;
    const active = sumDays(report.activeUsers, yesterday, clientKeys);
    activeUsers.push({ labels: { ...wsLabel }, value: decimalToNumber(active.total) });
    for (const client of CLIENTS) activeByClient.push({ labels: { client, ...wsLabel }, value: decimalToNumber(active[client]) });
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

/** Per capped metric, the series the tool cap left out (tools dropped × published windows, over all reports). */
export function vibeWorkspaceSeriesDropped(snapshot: VibeWorkspaceSnapshot): Record<string, number> {
  const windows = windowDays(snapshot.fetchedAt, snapshot.windows);
  const dropped = snapshot.reports.reduce(
    (n, report) => n + rankTools(report, snapshot).dropped * windows.filter((w) => allLoaded(w.days, report.loaded)).length,
    0,
  );
  return { [VIBE_WORKSPACE_FAMILIES.toolCallsByTool.name]: dropped };
}

export const vibeByWorkspace = defineEndpoint({
  id: 'vibe_by_workspace',
  describe: 'GET analytics/vibe (by_workspace)',
  title: 'Vibe Code by_workspace',
  paths: {
    brief: 'analytics/vibe/usage/by_workspace',
    legacy: 'analytics/vibe/usage/by_workspace',
    current: 'analytics/vibe/code/usage/by_workspace',
  },
  intervalGroup: 'analytics',
  query: "`start_time`, `end_time`: the longest window's complete UTC days, one request",
  perWorkspace: true,
  families: Object.values(VIBE_WORKSPACE_FAMILIES),
  reader: ({ workspaceIds, maxWorkspaces, analytics }): Reader<VibeWorkspaceSnapshot> => {
    const { windows, toolLimit } = analytics;
    const reportOnce = warnOnce();
    return {
      async fetch(ctx) {
        const targets = await workspaceTargets(ctx, { workspaceIds, maxWorkspaces });
        reportNotFollowed(reportOnce, ctx, 'vibe_by_workspace', targets);
        const range = completeDaysRange(ctx.now, longest(windows).days);
        const tally = new UnreadableTally();
        const reports = await perWorkspace(targets, async (workspaceId) => {
          const query = workspaceId === undefined ? { ...range } : { ...range, workspace_id: workspaceId };
          const { body } = await ctx.get(query);
          checkEchoedWindow(body, query, 'vibe by_workspace');
          return parseVibeWorkspace(body, workspaceId, tally);
        });
        return { fetchedAt: ctx.now, windows, toolLimit, byWorkspace: targets.byWorkspace, reports, unreadable: tally.result() };
      },
      toFamilies: vibeWorkspaceFamilies,
      seriesDropped: vibeWorkspaceSeriesDropped,
      completeUntil: (s) => vibeCompleteUntil(s.fetchedAt, s.windows, s.reports),
      unreadable: (s) => s.unreadable ?? {},
    };
  },
});
