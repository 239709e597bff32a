/**
 * Vibe Code analytics: by_workspace and by_organization daily arrays, and
 * their window ground truth.
 *
 * A day is served when its UTC start is in [start_time, end_time), has begun
 * by now, and is after the organisation's creation; it then holds that whole
 * day's activity up to now (the current day is partial).
 */
import { TOOL_APPROVAL, TOOL_STATUS, UNNAMED_CLIENT, forEachNextEditHour, forEachVibeHour } from './activity.js';
import { VIBE_CLIENTS, VIBE_MODELS } from './catalog.js';
import { decimalFromScaled, decimalToString } from './decimal.js';
import { ORG_CREATED_SECONDS, userInWorkspace, type SimOrg } from './org.js';
import { DAY_SECONDS, isoDay } from './time.js';
import type { JsonObject } from './usage.js';

export interface VibeWindow {
  readonly startSeconds: number;
  readonly endSeconds: number;
  readonly nowSeconds: number;
}

/** First and last day index served for the window, or null when none. */
export function servedVibeDays(window: VibeWindow): { first: number; last: number } | null {
  const first = Math.ceil(Math.max(window.startSeconds, ORG_CREATED_SECONDS) / DAY_SECONDS);
  const last = Math.min(Math.ceil(window.endSeconds / DAY_SECONDS) - 1, Math.floor(window.nowSeconds / DAY_SECONDS));
  return first <= last ? { first, last } : null;
}

const CLIENT_SLOTS = VIBE_CLIENTS.length + 1; // named clients + the unnamed remainder

export function vibeByWorkspaceBody(org: SimOrg, window: VibeWindow, workspaceId: string | undefined): JsonObject {
  const body: JsonObject = {
    start_time: window.startSeconds,
    end_time: window.endSeconds,
    sessions: [],
    user_prompts: [],
    active_users: [],
    consumed_tokens: [],
    tool_calls: [],
    tool_calls_by_name: [],
    session_durations: [],
  };
  const days = servedVibeDays(window);
  if (!days) return body;
  const n = days.last - days.first + 1;
  const tools = org.toolNames.length;
  const models = VIBE_MODELS.length;
  const sessions = new Float64Array(n * CLIENT_SLOTS);
  const prompts = new Float64Array(n * CLIENT_SLOTS);
  const active = new Float64Array(n * CLIENT_SLOTS);
  const activeTotal = new Float64Array(n);
  const lastUser = new Int32Array(n * CLIENT_SLOTS).fill(-1);
  const lastUserTotal = new Int32Array(n).fill(-1);
  const tokens = new Float64Array(n * models * 3);
  const calls = new Float64Array(n * 7); // total, success, failure, skipped, ask, always, never
  const callsByTool = new Float64Array(n * tools);
  const durationTenths = new Float64Array(n);

  forEachVibeHour(
    org,
    days.first * DAY_SECONDS,
    (days.last + 1) * DAY_SECONDS,
    window.nowSeconds,
    (user) => userInWorkspace(org, user, workspaceId),
    (hour) => {
      const d = hour.day - days.first;
      const slot = d * CLIENT_SLOTS + hour.client;
      sessions[slot]! += hour.sessions;
      prompts[slot]! += hour.prompts;
      if (lastUser[slot] !== hour.user.index) {
        lastUser[slot] = hour.user.index;
        active[slot]! += 1;
      }
      if (lastUserTotal[d] !== hour.user.index) {
        lastUserTotal[d] = hour.user.index;
        activeTotal[d]! += 1;
      }
      const t = (d * models + hour.model) * 3;
      tokens[t]! += hour.inputTokens;
      tokens[t + 1]! += hour.outputTokens;
      tokens[t + 2]! += hour.cachedTokens;
      for (let c = 0; c < hour.toolCalls; c++) {
        const code = hour.callCodes[c]!;
        calls[d * 7]! += 1;
        calls[d * 7 + 1 + ((code >> 2) & 3)]! += 1;
        calls[d * 7 + 4 + (code & 3)]! += 1;
        callsByTool[d * tools + (code >> 4)]! += 1;
      }
      durationTenths[d]! += hour.durationTenths;
    },
  );

  const perClient = (values: Float64Array, d: number) => VIBE_CLIENTS.map((_, c) => values[d * CLIENT_SLOTS + c]!);
  const allClients = (values: Float64Array, d: number) => {
    let sum = 0;
    for (let c = 0; c < CLIENT_SLOTS; c++) sum += values[d * CLIENT_SLOTS + c]!;
    return sum;
  };
  const rows = (key: string) => body[key] as JsonObject[];
  for (let d = 0; d < n; d++) {
    const day = isoDay(days.first + d);
    const [sCli, sAcp, sProg] = perClient(sessions, d);
    rows('sessions').push({
      day,
      nb_sessions: allClients(sessions, d),
      nb_sessions_cli: sCli!,
      nb_sessions_acp: sAcp!,
      nb_sessions_programmatic: sProg!,
    });
    const [pCli, pAcp, pProg] = perClient(prompts, d);
    rows('user_prompts').push({
      day,
      nb_prompts_total: allClients(prompts, d),
      nb_prompts_cli: pCli!,
      nb_prompts_acp: pAcp!,
      nb_prompts_programmatic: pProg!,
    });
    const [aCli, aAcp, aProg] = perClient(active, d);
    rows('active_users').push({
      day,
      nb_active_users_total: activeTotal[d]!,
      nb_active_users_cli: aCli!,
      nb_active_users_acp: aAcp!,
      nb_active_users_programmatic: aProg!,
    });
    VIBE_MODELS.forEach((model, m) => {
      const t = (d * models + m) * 3;
      if (tokens[t] === 0) return;
      rows('consumed_tokens').push({ day, model, cached_tokens: tokens[t + 2]!, input_tokens: tokens[t]!, output_tokens: tokens[t + 1]! });
    });
    const c = d * 7;
    rows('tool_calls').push({
      day,
      total: calls[c]!,
      status_success: calls[c + 1]!,
      status_failure: calls[c + 2]!,
      status_skipped: calls[c + 3]!,
      approval_ask: calls[c + 4]!,
      approval_always: calls[c + 5]!,
      approval_never: calls[c + 6]!,
    });
    org.toolNames.forEach((toolName, t) => {
      const count = callsByTool[d * tools + t]!;
      if (count > 0) rows('tool_calls_by_name').push({ day, tool_name: toolName, count });
    });
    rows('session_durations').push({ day, total_duration_hours: durationTenths[d]! / 10 });
  }
  return body;
}

export function vibeByOrganizationBody(org: SimOrg, window: VibeWindow): JsonObject {
  const body: JsonObject = {
    start_time: window.startSeconds,
    end_time: window.endSeconds,
    next_edit_suggestions: [],
    next_edit_active_users: [],
    next_edit_modified_loc: [],
  };
  const days = servedVibeDays(window);
  if (!days) return body;
  const n = days.last - days.first + 1;
  const FIELDS = 11; // total, 5 outcomes, forced, widget, inserted, deleted, unchanged
  const sums = new Float64Array(n * FIELDS);
  const active = new Float64Array(n);
  const lastUser = new Int32Array(n).fill(-1);
  forEachNextEditHour(org, days.first * DAY_SECONDS, (days.last + 1) * DAY_SECONDS, window.nowSeconds, (hour) => {
    const d = hour.day - days.first;
    const values = [
      hour.suggestions,
      hour.accepted,
      hour.rejected,
      hour.timeout,
      hour.aborted,
      hour.dismissed,
      hour.forced,
      hour.widget,
      hour.linesInserted,
      hour.linesDeleted,
      hour.linesUnchanged,
    ];
    for (const [i, v] of values.entries()) sums[d * FIELDS + i]! += v;
    if (lastUser[d] !== hour.user.index) {
      lastUser[d] = hour.user.index;
      active[d]! += 1;
    }
  });
  for (let d = 0; d < n; d++) {
    const day = isoDay(days.first + d);
    const at = (i: number) => sums[d * FIELDS + i]!;
    (body['next_edit_suggestions'] as JsonObject[]).push({
      day,
      total_suggestions: at(0),
      outcome_accepted: at(1),
      outcome_rejected: at(2),
      outcome_timeout: at(3),
      outcome_aborted: at(4),
      outcome_dismissed: at(5),
      force_generated_true: at(6),
      force_generated_false: at(0) - at(6),
      surface_widget: at(7),
      surface_ghost_text: at(0) - at(7),
    });
    (body['next_edit_active_users'] as JsonObject[]).push({ day, nb_active_users: active[d]! });
    (body['next_edit_modified_loc'] as JsonObject[]).push({
      day,
      lines_inserted: at(8),
      lines_deleted: at(9),
      lines_unchanged: at(10),
      lines_total: at(8) + at(9) + at(10),
    });
  }
  return body;
}

/* ----------------------------------------------------------------- truth */

export interface ByClient {
  readonly total: number;
  readonly cli: number;
  readonly acp: number;
  readonly programmatic: number;
}

/** Vibe Code activity over the days served for [start, end) (see servedVibeDays). */
export interface VibeWindowTruth {
  /** The served days, "YYYY-MM-DD". */
  readonly days: readonly string[];
  /** `total` includes sessions from an unnamed client, so total ≥ cli + acp + programmatic. */
  readonly sessions: ByClient & { readonly unnamed: number };
  readonly prompts: ByClient & { readonly unnamed: number };
  /** Σ over days of each day's distinct active users. */
  readonly activeUserDays: ByClient;
  /** Distinct users active on any served day. */
  readonly distinctUsers: number;
  /** By model alias. */
  readonly tokens: Readonly<Record<string, { readonly input: number; readonly output: number; readonly cached: number }>>;
  readonly toolCalls: {
    readonly total: number;
    readonly success: number;
    readonly failure: number;
    readonly skipped: number;
    readonly ask: number;
    readonly always: number;
    readonly never: number;
  };
  /** By tool name. */
  readonly toolCallsByName: Readonly<Record<string, number>>;
  /** Σ total_duration_hours, exact decimal string. */
  readonly durationHours: string;
}

export function vibeWindowTruth(org: SimOrg, window: VibeWindow, workspaceId: string | undefined): VibeWindowTruth {
  const days = servedVibeDays(window);
  const dayList: string[] = [];
  if (days) for (let d = days.first; d <= days.last; d++) dayList.push(isoDay(d));
  const clientName = (c: number) => (c === UNNAMED_CLIENT ? 'unnamed' : VIBE_CLIENTS[c]!);
  const sessions: Record<string, number> = { total: 0, cli: 0, acp: 0, programmatic: 0, unnamed: 0 };
  const prompts: Record<string, number> = { total: 0, cli: 0, acp: 0, programmatic: 0, unnamed: 0 };
  const activeKeys = new Set<string>();
  const users = new Set<string>();
  const tokens: Record<string, { input: number; output: number; cached: number }> = {};
  const toolCalls = { total: 0, success: 0, failure: 0, skipped: 0, ask: 0, always: 0, never: 0 };
  const toolCallsByName: Record<string, number> = {};
  let tenths = 0;
  if (days) {
    forEachVibeHour(
      org,
      days.first * DAY_SECONDS,
      (days.last + 1) * DAY_SECONDS,
      window.nowSeconds,
      (user) => userInWorkspace(org, user, workspaceId),
      (hour) => {
        const client = clientName(hour.client);
        sessions['total']! += hour.sessions;
        sessions[client]! += hour.sessions;
        prompts['total']! += hour.prompts;
        prompts[client]! += hour.prompts;
        activeKeys.add(`${hour.day}|${hour.user.id}|total`);
        if (hour.client !== UNNAMED_CLIENT) activeKeys.add(`${hour.day}|${hour.user.id}|${client}`);
        users.add(hour.user.id);
        const model = VIBE_MODELS[hour.model]!;
        const t = (tokens[model] ??= { input: 0, output: 0, cached: 0 });
        t.input += hour.inputTokens;
        t.output += hour.outputTokens;
        t.cached += hour.cachedTokens;
        for (let c = 0; c < hour.toolCalls; c++) {
          const code = hour.callCodes[c]!;
          toolCalls.total++;
          toolCalls[TOOL_STATUS[(code >> 2) & 3]!]++;
          toolCalls[TOOL_APPROVAL[code & 3]!]++;
          const name = org.toolNames[code >> 4]!;
          toolCallsByName[name] = (toolCallsByName[name] ?? 0) + 1;
        }
        tenths += hour.durationTenths;
      },
    );
  }
  const activeUserDays = { total: 0, cli: 0, acp: 0, programmatic: 0 };
  for (const key of activeKeys) activeUserDays[key.slice(key.lastIndexOf('|') + 1) as keyof typeof activeUserDays]++;
  return {
    days: dayList,
    sessions: sessions as unknown as VibeWindowTruth['sessions'],
    prompts: prompts as unknown as VibeWindowTruth['prompts'],
    activeUserDays,
    distinctUsers: users.size,
    tokens,
    toolCalls,
    toolCallsByName,
    durationHours: decimalToString(decimalFromScaled(tenths, 1)),
  };
}

/** Vibe next-edit (IDE suggestions) activity over the days served for [start, end). */
export interface NextEditWindowTruth {
  readonly days: readonly string[];
  readonly suggestions: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly timeout: number;
  readonly aborted: number;
  readonly dismissed: number;
  readonly forced: number;
  readonly widget: number;
  readonly activeUserDays: number;
  readonly distinctUsers: number;
  readonly linesInserted: number;
  readonly linesDeleted: number;
  readonly linesUnchanged: number;
}

export function nextEditWindowTruth(org: SimOrg, window: VibeWindow): NextEditWindowTruth {
  const days = servedVibeDays(window);
  const dayList: string[] = [];
  const totals = {
    suggestions: 0,
    accepted: 0,
    rejected: 0,
    timeout: 0,
    aborted: 0,
    dismissed: 0,
    forced: 0,
    widget: 0,
    linesInserted: 0,
    linesDeleted: 0,
    linesUnchanged: 0,
  };
  const userDays = new Set<string>();
  const users = new Set<string>();
  if (days) {
    for (let d = days.first; d <= days.last; d++) dayList.push(isoDay(d));
    forEachNextEditHour(org, days.first * DAY_SECONDS, (days.last + 1) * DAY_SECONDS, window.nowSeconds, (hour) => {
      for (const key of Object.keys(totals) as Array<keyof typeof totals>) totals[key] += hour[key];
      userDays.add(`${hour.day}|${hour.user.id}`);
      users.add(hour.user.id);
    });
  }
  return { days: dayList, ...totals, activeUserDays: userDays.size, distinctUsers: users.size };
}
