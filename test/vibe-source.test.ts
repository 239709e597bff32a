import { describe, expect, it } from 'vitest';
import type { AnalyticsWindow } from '../src/config/settings.js';
import { createSources } from '../src/sources/catalog.js';
import { ParseError } from '../src/sources/types.js';
import { parseVibeOrganization, vibeByOrganization, vibeOrganizationFamilies } from '../src/sources/vibe-by-organization.js';
import {
  parseVibeWorkspace,
  vibeByWorkspace,
  vibeWorkspaceFamilies,
  vibeWorkspaceSeriesDropped,
  type VibeWorkspaceSnapshot,
} from '../src/sources/vibe-by-workspace.js';
import { UnreadableTally } from '../src/sources/unreadable.js';
import { flat } from './support/families.js';
import { readerOptions, recordingContext } from './support/readers.js';

const DAY_MS = 86_400_000;
const win = (days: number): AnalyticsWindow => ({ label: `${days}d`, ms: days * DAY_MS, days });
const WINDOWS = [win(1), win(7), win(30)];

/**
 * Sunday 15 November 2026, noon UTC. Complete days: 1d = 11-14;
 * 7d = 11-08..11-14; 30d = 10-16..11-14. 11-15 is today (partial).
 */
const NOW = Date.UTC(2026, 10, 15, 12);

const session = (day: string, total: unknown, cli: unknown, acp: unknown, programmatic: unknown) => ({
  day,
  nb_sessions: total,
  nb_sessions_cli: cli,
  nb_sessions_acp: acp,
  nb_sessions_programmatic: programmatic,
});
const prompts = (day: string, total: unknown, cli: unknown, acp: unknown, programmatic: unknown) => ({
  day,
  nb_prompts_total: total,
  nb_prompts_cli: cli,
  nb_prompts_acp: acp,
  nb_prompts_programmatic: programmatic,
});
const users = (day: string, total: unknown, cli: unknown, acp: unknown, programmatic: unknown) => ({
  day,
  nb_active_users_total: total,
  nb_active_users_cli: cli,
  nb_active_users_acp: acp,
  nb_active_users_programmatic: programmatic,
});
const tokens = (day: string, model: string, input: unknown, output: unknown, cached: unknown) => ({
  day,
  model,
  input_tokens: input,
  output_tokens: output,
  cached_tokens: cached,
});
const calls = (day: string, c: [number, number, number, number, number, number] | string[]) => ({
  day,
  total: 0,
  status_success: c[0],
  status_failure: c[1],
  status_skipped: c[2],
  approval_ask: c[3],
  approval_always: c[4],
  approval_never: c[5],
});
const tool = (day: string, tool_name: string, count: unknown) => ({ day, tool_name, count });
const duration = (day: string, hours: unknown) => ({ day, total_duration_hours: hours });

/** The `YYYY-MM-DD` days from `from` to `to`, both included. */
const daysFrom = (from: string, to: string): string[] => {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
};
/** Zero-hour session time on each day: marks the days loaded (an element with zero counts is 0), adds nothing. */
const loaded = (from: string, to: string) => daysFrom(from, to).map((day) => duration(day, 0));

/**
 * A by_workspace answer shaped after VibeWorkspaceStatsOUT. Every day of the
 * 30d window is loaded (11-13 only through a zero session time); most arrays
 * have no element on most days.
 */
const WORKSPACE_BODY = {
  start_time: Date.UTC(2026, 9, 16) / 1000,
  end_time: Date.UTC(2026, 10, 15) / 1000,
  sessions: [
    session('2026-10-10', 1000, 1000, 0, 0), // before every window
    session('2026-10-16', 100, 50, 20, 10), // first day of 30d
    session('2026-11-08', '40', '30', 5, 5), // first day of 7d
    session('2026-11-12', 10, 2, 2, 2),
    session('2026-11-14', 7, 3, 1, 1), // 1d
    session('2026-11-15', 500, 500, 0, 0), // today: never counted
  ],
  user_prompts: [
    prompts('2026-10-20', 100, 100, 0, 0),
    prompts('2026-11-12', 20, 5, 5, 0),
    prompts('2026-11-14', 5, 4, 2, 1), // parts exceed the total
    prompts('2026-11-15', 9, 9, 9, 9),
  ],
  active_users: [users('2026-11-12', 50, 50, 0, 0), users('2026-11-14', '12', 9, 4, 1), users('2026-11-15', 99, 99, 99, 99)],
  consumed_tokens: [
    tokens('2026-10-10', 'ancient', 1, 1, 1),
    tokens('2026-10-16', 'old-model', 5, 6, 7),
    tokens('2026-11-12', 'devstral', '200', 20, 2),
    tokens('2026-11-12', 'codestral-latest', 1000, 0, 0),
    tokens('2026-11-14', 'devstral', 100, 10, 1),
    tokens('2026-11-15', 'today-model', 9, 9, 9),
  ],
  tool_calls: [
    calls('2026-10-16', [100, 10, 1, 20, 80, 11]),
    calls('2026-11-08', ['10', '2', '1', '3', '9', '1']),
    calls('2026-11-14', [5, 1, 0, 2, 3, 1]),
    calls('2026-11-15', [999, 999, 999, 999, 999, 999]),
  ],
  tool_calls_by_name: [
    tool('2026-10-10', 'write_file', 100), // before the longest window
    tool('2026-10-16', 'run', 12), // longest window only
    tool('2026-11-08', 'grep', 9),
    tool('2026-11-12', 'bash', 6),
    tool('2026-11-14', 'bash', '4'),
    tool('2026-11-14', 'read_file', 10), // the most called yesterday, but ties with bash on 30d and loses by name
    tool('2026-11-15', 'write_file', 100), // today
  ],
  session_durations: [
    duration('2026-10-16', 1.5),
    duration('2026-11-12', '0.2'),
    duration('2026-11-14', 0.1),
    duration('2026-11-15', 10),
    ...loaded('2026-10-16', '2026-11-14'),
  ],
  some_new_field: { ignored: true },
};

const snapshot = (over: Partial<VibeWorkspaceSnapshot> = {}): VibeWorkspaceSnapshot => ({
  fetchedAt: NOW,
  windows: WINDOWS,
  toolLimit: 2,
  byWorkspace: false,
  reports: [parseVibeWorkspace(WORKSPACE_BODY)],
  ...over,
});

describe('Vibe Code by workspace', () => {
  const m = flat(vibeWorkspaceFamilies(snapshot()));

  it('sums sessions per client over each window, with other = total minus the named clients', () => {
    const at = (client: string, window: string) => m[`mistral_vibe_sessions{client="${client}",window="${window}"}`];
    expect([at('cli', '1d'), at('acp', '1d'), at('programmatic', '1d'), at('other', '1d')]).toEqual([3, 1, 1, 2]);
    expect([at('cli', '7d'), at('acp', '7d'), at('programmatic', '7d'), at('other', '7d')]).toEqual([35, 8, 8, 6]);
    expect([at('cli', '30d'), at('acp', '30d'), at('programmatic', '30d'), at('other', '30d')]).toEqual([85, 28, 18, 26]);
  });

  it('computes other from the window sums, and 0 when the parts exceed the total', () => {
    const at = (client: string, window: string) => m[`mistral_vibe_prompts{client="${client}",window="${window}"}`];
    expect([at('cli', '1d'), at('acp', '1d'), at('programmatic', '1d'), at('other', '1d')]).toEqual([4, 2, 1, 0]);
    // 7d: total 25, parts 9 + 7 + 1 = 17 → 8 (not 10 + 0 from the days one by one)
    expect([at('cli', '7d'), at('acp', '7d'), at('programmatic', '7d'), at('other', '7d')]).toEqual([9, 7, 1, 8]);
    expect([at('cli', '30d'), at('acp', '30d'), at('programmatic', '30d'), at('other', '30d')]).toEqual([109, 7, 1, 8]);
  });

  it('sums tokens per model, with the same models in every window', () => {
    const at = (model: string, type: string, window: string) =>
      m[`mistral_vibe_tokens{model="${model}",token_type="${type}",window="${window}"}`];
    expect([at('devstral', 'input', '1d'), at('devstral', 'output', '1d'), at('devstral', 'cached', '1d')]).toEqual([100, 10, 1]);
    expect([at('devstral', 'input', '7d'), at('devstral', 'output', '7d'), at('devstral', 'cached', '7d')]).toEqual([300, 30, 3]);
    expect(at('codestral-latest', 'input', '7d')).toBe(1000);
    expect(at('codestral-latest', 'input', '1d')).toBe(0);
    expect([at('old-model', 'input', '30d'), at('old-model', 'output', '30d'), at('old-model', 'cached', '30d')]).toEqual([5, 6, 7]);
    expect(at('old-model', 'input', '1d')).toBe(0);
    expect(Object.keys(m).filter((k) => k.includes('ancient') || k.includes('today-model'))).toEqual([]);
  });

  it('sums tool calls by status and approval', () => {
    const status = (s: string, w: string) => m[`mistral_vibe_tool_calls{status="${s}",window="${w}"}`];
    const approval = (a: string, w: string) => m[`mistral_vibe_tool_call_approvals{approval="${a}",window="${w}"}`];
    expect([status('success', '1d'), status('failure', '1d'), status('skipped', '1d')]).toEqual([5, 1, 0]);
    expect([status('success', '7d'), status('failure', '7d'), status('skipped', '7d')]).toEqual([15, 3, 1]);
    expect([status('success', '30d'), status('failure', '30d'), status('skipped', '30d')]).toEqual([115, 13, 2]);
    expect([approval('ask', '1d'), approval('always', '1d'), approval('never', '1d')]).toEqual([2, 3, 1]);
    expect([approval('ask', '7d'), approval('always', '7d'), approval('never', '7d')]).toEqual([5, 12, 2]);
    expect([approval('ask', '30d'), approval('always', '30d'), approval('never', '30d')]).toEqual([25, 92, 13]);
  });

  it('caps tools: ranked once on the longest window, ties by name, the same tools in every window', () => {
    const byTool = Object.fromEntries(Object.entries(m).filter(([k]) => k.startsWith('mistral_vibe_tool_calls_by_tool')));
    expect(byTool).toEqual({
      'mistral_vibe_tool_calls_by_tool{tool="bash",window="1d"}': 4,
      'mistral_vibe_tool_calls_by_tool{tool="run",window="1d"}': 0,
      'mistral_vibe_tool_calls_by_tool{tool="bash",window="7d"}': 10,
      'mistral_vibe_tool_calls_by_tool{tool="run",window="7d"}': 0,
      'mistral_vibe_tool_calls_by_tool{tool="bash",window="30d"}': 10,
      'mistral_vibe_tool_calls_by_tool{tool="run",window="30d"}': 12,
    });
    // read_file and grep are left out, in each of the 3 windows; write_file was never in a window.
    expect(vibeWorkspaceSeriesDropped(snapshot())).toEqual({ mistral_vibe_tool_calls_by_tool: 6 });
  });

  it('drops nothing when every tool fits, and keeps every tool of the longest window', () => {
    const all = snapshot({ toolLimit: 50 });
    expect(vibeWorkspaceSeriesDropped(all)).toEqual({ mistral_vibe_tool_calls_by_tool: 0 });
    const tools = new Set(
      vibeWorkspaceFamilies(all)
        .find((f) => f.name === 'mistral_vibe_tool_calls_by_tool')
        ?.samples.map((s) => s.labels.tool),
    );
    expect([...tools].sort()).toEqual(['bash', 'grep', 'read_file', 'run']);
    expect(flat(vibeWorkspaceFamilies(all))['mistral_vibe_tool_calls_by_tool{tool="read_file",window="1d"}']).toBe(10);
  });

  it('adds up session time exactly, in seconds', () => {
    expect(m['mistral_vibe_session_duration_seconds{window="1d"}']).toBe(360);
    expect(m['mistral_vibe_session_duration_seconds{window="7d"}']).toBe(1080); // (0.1 + 0.2) h, not 1080.0000000000002
    expect(m['mistral_vibe_session_duration_seconds{window="30d"}']).toBe(6480);
  });

  it('takes active users from the last complete day only', () => {
    expect(m.mistral_vibe_daily_active_users).toBe(12);
    expect(m['mistral_vibe_daily_active_users_by_client{client="cli"}']).toBe(9);
    expect(m['mistral_vibe_daily_active_users_by_client{client="acp"}']).toBe(4);
    expect(m['mistral_vibe_daily_active_users_by_client{client="programmatic"}']).toBe(1);
    expect(Object.keys(m).some((k) => k.startsWith('mistral_vibe_daily_active_users_by_client{client="other"'))).toBe(false);
  });

  it('exports 0 for every known series when every day is loaded with elements of zero counts', () => {
    const zero = flat(
      vibeWorkspaceFamilies(
        snapshot({
          reports: [parseVibeWorkspace({ sessions: [], user_prompts: null, session_durations: loaded('2026-10-16', '2026-11-14') })],
        }),
      ),
    );
    expect(zero).toMatchObject({
      'mistral_vibe_sessions{client="other",window="30d"}': 0,
      'mistral_vibe_prompts{client="cli",window="1d"}': 0,
      'mistral_vibe_tool_calls{status="skipped",window="7d"}': 0,
      'mistral_vibe_tool_call_approvals{approval="never",window="30d"}': 0,
      'mistral_vibe_session_duration_seconds{window="1d"}': 0,
      mistral_vibe_daily_active_users: 0,
      'mistral_vibe_daily_active_users_by_client{client="acp"}': 0,
    });
    expect(Object.keys(zero)).toHaveLength(4 * 3 * 2 + 3 * 3 * 2 + 3 + 1 + 3);
  });

  it('an answer with no element at all has no day loaded: nothing is published, never 0', () => {
    const s = snapshot({ reports: [parseVibeWorkspace({ sessions: [], user_prompts: null })] });
    expect(flat(vibeWorkspaceFamilies(s))).toEqual({});
    expect(vibeByWorkspace.reader(readerOptions({ analytics: { windows: WINDOWS } })).completeUntil?.(s)).toBe(
      Date.UTC(2026, 9, 16) / 1000,
    );
  });

  it('a day not loaded (no element in any array) withholds the windows needing it, and the daily gauges of it', () => {
    // 11-13 not loaded: 7d and 30d need it, 1d (11-14) does not.
    const body = { ...WORKSPACE_BODY, session_durations: WORKSPACE_BODY.session_durations.filter((d) => d.day !== '2026-11-13') };
    const s = snapshot({ reports: [parseVibeWorkspace(body)] });
    const f = flat(vibeWorkspaceFamilies(s));
    expect(f['mistral_vibe_sessions{client="cli",window="1d"}']).toBe(3);
    expect(Object.keys(f).filter((k) => /window="(7|30)d"/.test(k))).toEqual([]);
    expect(f.mistral_vibe_daily_active_users).toBe(12);
    expect(vibeByWorkspace.reader(readerOptions({ analytics: { windows: WINDOWS } })).completeUntil?.(s)).toBe(
      Date.UTC(2026, 10, 13) / 1000,
    );
    expect(vibeWorkspaceSeriesDropped(s)).toEqual({ mistral_vibe_tool_calls_by_tool: 2 });
    // Yesterday (11-14) not loaded: no window, no daily gauge.
    const late = { ...WORKSPACE_BODY };
    for (const k of [
      'sessions',
      'user_prompts',
      'active_users',
      'consumed_tokens',
      'tool_calls',
      'tool_calls_by_name',
      'session_durations',
    ] as const) {
      (late as Record<string, unknown>)[k] = (WORKSPACE_BODY[k] as Array<{ day: string }>).filter((r) => r.day < '2026-11-14');
    }
    const y = snapshot({ reports: [parseVibeWorkspace(late)] });
    expect(vibeWorkspaceFamilies(y).flatMap((fam) => fam.samples)).toEqual([]);
    expect(vibeByWorkspace.reader(readerOptions({ analytics: { windows: WINDOWS } })).completeUntil?.(y)).toBe(
      Date.UTC(2026, 10, 14) / 1000,
    );
  });

  it('active users of a loaded day without an active_users element are 0', () => {
    const body = {
      active_users: [users('2026-11-13', 40, 30, 20, 10), users('2026-11-15', 5, 5, 5, 5)],
      sessions: [session('2026-11-14', 0, 0, 0, 0)],
    };
    const f = flat(vibeWorkspaceFamilies(snapshot({ reports: [parseVibeWorkspace(body)] })));
    expect(f.mistral_vibe_daily_active_users).toBe(0);
    expect(f['mistral_vibe_daily_active_users_by_client{client="cli"}']).toBe(0);
  });

  it('labels every family with workspace_id per workspace, and ranks tools per workspace', () => {
    const other = {
      tool_calls_by_name: [tool('2026-11-14', 'grep', 1), tool('2026-11-14', 'zed', 1), tool('2026-11-01', 'apply_patch', 1)],
      session_durations: loaded('2026-10-16', '2026-11-14'),
    };
    const s = snapshot({ byWorkspace: true, reports: [parseVibeWorkspace(WORKSPACE_BODY, 'ws-a'), parseVibeWorkspace(other, 'ws-b')] });
    const families = vibeWorkspaceFamilies(s);
    for (const f of families) {
      expect(f.labelNames.at(-1)).toBe('workspace_id');
      for (const sample of f.samples) expect(Object.keys(sample.labels)).toEqual(f.labelNames);
    }
    const w = flat(families);
    expect(w['mistral_vibe_sessions{client="cli",window="7d",workspace_id="ws-a"}']).toBe(35);
    expect(w['mistral_vibe_sessions{client="cli",window="7d",workspace_id="ws-b"}']).toBe(0);
    expect(w['mistral_vibe_daily_active_users{workspace_id="ws-a"}']).toBe(12);
    expect(w['mistral_vibe_daily_active_users{workspace_id="ws-b"}']).toBe(0);
    expect(w['mistral_vibe_tool_calls_by_tool{tool="bash",window="1d",workspace_id="ws-a"}']).toBe(4);
    // ws-b: a tie at 1 on 30d, kept by name (apply_patch, grep); zed dropped.
    expect(w['mistral_vibe_tool_calls_by_tool{tool="apply_patch",window="1d",workspace_id="ws-b"}']).toBe(0);
    expect(w['mistral_vibe_tool_calls_by_tool{tool="grep",window="1d",workspace_id="ws-b"}']).toBe(1);
    expect(Object.keys(w).some((k) => k.includes('tool="zed"'))).toBe(false);
    expect(vibeWorkspaceSeriesDropped(s)).toEqual({ mistral_vibe_tool_calls_by_tool: 6 + 3 });
  });

  it('has no workspace_id label organization-wide', () => {
    for (const f of vibeWorkspaceFamilies(snapshot())) {
      expect(f.labelNames).not.toContain('workspace_id');
      expect(f.labelNames.at(-1) === 'window' || !f.labelNames.includes('window')).toBe(true);
    }
    expect(Object.keys(m).some((k) => k.includes('workspace_id'))).toBe(false);
  });

  it('moves every window by one day at the UTC day rollover', () => {
    const body = {
      sessions: [session('2026-11-08', 1, 1, 0, 0), session('2026-11-14', 10, 10, 0, 0), session('2026-11-15', 100, 100, 0, 0)],
      active_users: [users('2026-11-14', 3, 3, 0, 0), users('2026-11-15', 4, 4, 0, 0)],
      session_durations: loaded('2026-11-08', '2026-11-15'),
    };
    const at = (now: number) =>
      flat(vibeWorkspaceFamilies(snapshot({ fetchedAt: now, windows: [win(1), win(7)], reports: [parseVibeWorkspace(body)] })));
    const before = at(Date.UTC(2026, 10, 15, 23, 59, 59));
    const after = at(Date.UTC(2026, 10, 16, 0, 0, 1));
    expect(before['mistral_vibe_sessions{client="cli",window="1d"}']).toBe(10);
    expect(before['mistral_vibe_sessions{client="cli",window="7d"}']).toBe(11);
    expect(before.mistral_vibe_daily_active_users).toBe(3);
    expect(after['mistral_vibe_sessions{client="cli",window="1d"}']).toBe(100);
    expect(after['mistral_vibe_sessions{client="cli",window="7d"}']).toBe(110); // 11-08 has left the window
    expect(after.mistral_vibe_daily_active_users).toBe(4);
  });

  it('reads a date-time day as its date', () => {
    const r = parseVibeWorkspace({ sessions: [session('2026-11-14T00:00:00Z', 2, 2, 0, 0)] });
    expect(r.sessions[0]?.day).toBe('2026-11-14');
  });

  it.each<[string, unknown, RegExp]>([
    ['not an object', [], /^vibe by_workspace: expected an object, got an array$/],
    [
      'an array whose only row has a non-numeric count',
      { sessions: [session('2026-11-14', 'x', 1, 0, 0)] },
      /^vibe by_workspace: none of its 1 entries is readable \(the first: vibe by_workspace\.sessions\[0\]\.nb_sessions: expected a number, got the string "x"\)$/,
    ],
    [
      'an array that is not an array',
      { consumed_tokens: { devstral: 1 } },
      /^vibe by_workspace\.consumed_tokens: expected an array, got an object$/,
    ],
    [
      'a row without a day',
      { session_durations: [{ total_duration_hours: 1 }] },
      /vibe by_workspace\.session_durations\[0\]\.day: missing\)$/,
    ],
    [
      'a day that is not a date',
      { session_durations: [{ day: 'yesterday', total_duration_hours: 1 }] },
      /session_durations\[0\]\.day: expected a YYYY-MM-DD day/,
    ],
    [
      'a non-numeric duration',
      { session_durations: [duration('2026-11-14', 'long')] },
      /session_durations\[0\]\.total_duration_hours: expected a number/,
    ],
    [
      'a model that is not a string',
      { consumed_tokens: [{ day: '2026-11-14', model: 3, input_tokens: 1 }] },
      /consumed_tokens\[0\]\.model: expected a string/,
    ],
    ['none of the known arrays', { start_time: 1, end_time: 2, data: [] }, /^vibe by_workspace: the answer has none of the known arrays/],
  ])('refuses %s with a ParseError naming the field', (_name, body, message) => {
    expect(() => parseVibeWorkspace(body)).toThrow(ParseError);
    expect(() => parseVibeWorkspace(body)).toThrow(message);
  });

  it('an array without a readable row costs only that array: the rest of the answer is read', () => {
    const tally = new UnreadableTally();
    const report = parseVibeWorkspace({ sessions: ['x'], session_durations: [duration('2026-11-14', 2)] }, undefined, tally);
    expect(report.sessions).toEqual([]);
    expect(report.sessionDurations).toHaveLength(1);
    expect(tally.result()).toEqual({
      wrong_type: { count: 1, example: 'vibe by_workspace.sessions[0]: expected an object, got the string "x"' },
    });
  });

  it('skips and counts a row it cannot read, and serves the rest of the answer', () => {
    const tally = new UnreadableTally();
    const body = {
      sessions: [
        session('2026-11-11', 1, 1, 0, 0),
        session('2026-11-12', 1, 1, 0, 0),
        session('2026-11-13', 1, 1, 0, 0),
        session('2026-11-14', 'x', 1, 0, 0),
      ],
      tool_calls: [calls('2026-11-14', [1, 1, 1, 1, 1, 1]), 7, { day: '2026-11-13', total: 1 }],
    };
    const report = parseVibeWorkspace(body, undefined, tally);
    expect(report.sessions.map((r) => r.day)).toEqual(['2026-11-11', '2026-11-12', '2026-11-13']);
    expect(report.toolCalls).toHaveLength(1);
    expect(tally.result()).toEqual({
      not_a_number: { count: 1, example: 'vibe by_workspace.sessions[3].nb_sessions: expected a number, got the string "x"' },
      wrong_type: { count: 1, example: 'vibe by_workspace.tool_calls[1]: expected an object, got number 7' },
      missing: { count: 1, example: 'vibe by_workspace.tool_calls[2].status_success: missing' },
    });
  });
});

/** A by_organization answer shaped after VibeOrganizationStatsOUT. */
const ORGANIZATION_BODY = {
  start_time: 0,
  end_time: 0,
  next_edit_suggestions: [
    {
      day: '2026-10-01',
      total_suggestions: 1,
      outcome_accepted: 1000,
      outcome_rejected: 0,
      outcome_timeout: 0,
      outcome_aborted: 0,
      outcome_dismissed: 0,
      force_generated_true: 0,
      force_generated_false: 0,
      surface_widget: 0,
      surface_ghost_text: 1000,
    },
    {
      day: '2026-10-16',
      total_suggestions: 0,
      outcome_accepted: 30,
      outcome_rejected: 20,
      outcome_timeout: 10,
      outcome_aborted: 5,
      outcome_dismissed: 1,
      surface_widget: 16,
      surface_ghost_text: 50,
    },
    {
      day: '2026-11-10',
      outcome_accepted: '7',
      outcome_rejected: 3,
      outcome_timeout: 0,
      outcome_aborted: 0,
      outcome_dismissed: 2,
      surface_widget: 4,
      surface_ghost_text: '8',
    },
    {
      day: '2026-11-14',
      outcome_accepted: 4,
      outcome_rejected: 1,
      outcome_timeout: 1,
      outcome_aborted: 1,
      outcome_dismissed: 0,
      surface_widget: 2,
      surface_ghost_text: 5,
    },
    {
      day: '2026-11-15',
      outcome_accepted: 99,
      outcome_rejected: 99,
      outcome_timeout: 99,
      outcome_aborted: 99,
      outcome_dismissed: 99,
      surface_widget: 99,
      surface_ghost_text: 99,
    },
  ],
  next_edit_active_users: [
    { day: '2026-11-13', nb_active_users: 30 },
    { day: '2026-11-14', nb_active_users: '21' },
    { day: '2026-11-15', nb_active_users: 2 },
  ],
  next_edit_modified_loc: [
    { day: '2026-11-08', lines_inserted: 100, lines_deleted: 50, lines_unchanged: 1000, lines_total: 1150 },
    { day: '2026-11-14', lines_inserted: 10, lines_deleted: '5', lines_unchanged: 0, lines_total: 15 },
    { day: '2026-11-15', lines_inserted: 9, lines_deleted: 9, lines_unchanged: 9, lines_total: 27 },
    // Every day of the 30d window loaded, most of them without activity.
    ...daysFrom('2026-10-16', '2026-11-14').map((day) => ({
      day,
      lines_inserted: 0,
      lines_deleted: 0,
      lines_unchanged: 0,
      lines_total: 0,
    })),
  ],
};

describe('Vibe Code by organization', () => {
  const m = flat(vibeOrganizationFamilies({ fetchedAt: NOW, windows: WINDOWS, report: parseVibeOrganization(ORGANIZATION_BODY) }));

  it('sums next-edit suggestions by outcome and surface over each window', () => {
    const outcome = (o: string, w: string) => m[`mistral_vibe_next_edit_suggestions{outcome="${o}",window="${w}"}`];
    const surface = (s: string, w: string) => m[`mistral_vibe_next_edit_suggestions_by_surface{surface="${s}",window="${w}"}`];
    const outcomes = ['accepted', 'rejected', 'timeout', 'aborted', 'dismissed'];
    expect(outcomes.map((o) => outcome(o, '1d'))).toEqual([4, 1, 1, 1, 0]);
    expect(outcomes.map((o) => outcome(o, '7d'))).toEqual([11, 4, 1, 1, 2]);
    expect(outcomes.map((o) => outcome(o, '30d'))).toEqual([41, 24, 11, 6, 3]);
    expect([surface('widget', '1d'), surface('ghost_text', '1d')]).toEqual([2, 5]);
    expect([surface('widget', '7d'), surface('ghost_text', '7d')]).toEqual([6, 13]);
    expect([surface('widget', '30d'), surface('ghost_text', '30d')]).toEqual([22, 63]);
  });

  it('sums modified lines and takes active users from the last complete day', () => {
    const lines = (c: string, w: string) => m[`mistral_vibe_next_edit_lines{change="${c}",window="${w}"}`];
    expect([lines('inserted', '1d'), lines('deleted', '1d'), lines('unchanged', '1d')]).toEqual([10, 5, 0]);
    expect([lines('inserted', '7d'), lines('deleted', '7d'), lines('unchanged', '7d')]).toEqual([110, 55, 1000]);
    expect(m.mistral_vibe_next_edit_daily_active_users).toBe(21);
  });

  it('exports 0 for every known series of days loaded without activity, with no workspace_id', () => {
    const zero = daysFrom('2026-10-16', '2026-11-14').map((day) => ({ day, nb_active_users: 0 }));
    const families = vibeOrganizationFamilies({
      fetchedAt: NOW,
      windows: WINDOWS,
      report: parseVibeOrganization({ next_edit_suggestions: [], next_edit_active_users: zero }),
    });
    const e = flat(families);
    expect(Object.keys(e)).toHaveLength((5 + 2 + 3) * 3 + 1);
    expect(Object.values(e).every((v) => v === 0)).toBe(true);
    for (const f of families) expect(f.labelNames).not.toContain('workspace_id');
  });

  it('publishes nothing of an empty answer (no day loaded), and withholds the windows of a day not loaded', () => {
    const empty = { fetchedAt: NOW, windows: WINDOWS, report: parseVibeOrganization({ next_edit_suggestions: [] }) };
    expect(vibeOrganizationFamilies(empty).flatMap((f) => f.samples)).toEqual([]);
    const reader = vibeByOrganization.reader(readerOptions({ analytics: { windows: WINDOWS } }));
    expect(reader.completeUntil?.(empty)).toBe(Date.UTC(2026, 9, 16) / 1000);
    // Yesterday (11-14) not loaded: every window needs it; the daily gauge is of it.
    const body = Object.fromEntries(
      Object.entries(ORGANIZATION_BODY).map(([k, v]) => [k, Array.isArray(v) ? v.filter((r: { day: string }) => r.day < '2026-11-14') : v]),
    );
    const late = { fetchedAt: NOW, windows: WINDOWS, report: parseVibeOrganization(body) };
    expect(vibeOrganizationFamilies(late).flatMap((f) => f.samples)).toEqual([]);
    expect(reader.completeUntil?.(late)).toBe(Date.UTC(2026, 10, 14) / 1000);
    expect(reader.completeUntil?.({ ...late, report: parseVibeOrganization(ORGANIZATION_BODY) })).toBe(Date.UTC(2026, 10, 15) / 1000);
  });

  it.each<[string, unknown, RegExp]>([
    ['not an object', 'nope', /^vibe by_organization: expected an object, got the string "nope"$/],
    ['none of the known arrays', { sessions: [] }, /^vibe by_organization: the answer has none of the known arrays/],
    [
      'an array whose only row has a non-numeric count',
      { next_edit_suggestions: [{ day: '2026-11-14', outcome_accepted: 'lots' }] },
      /next_edit_suggestions\[0\]\.outcome_accepted: expected a number, got the string "lots"\)$/,
    ],
    ['an array whose only row is null', { next_edit_active_users: [null] }, /next_edit_active_users\[0\]: expected an object, got null\)$/],
  ])('refuses %s with a ParseError naming the field', (_name, body, message) => {
    expect(() => parseVibeOrganization(body)).toThrow(ParseError);
    expect(() => parseVibeOrganization(body)).toThrow(message);
  });
});

describe('Vibe Code sources', () => {
  const RANGE = { start_time: Date.UTC(2026, 9, 16) / 1000, end_time: Date.UTC(2026, 10, 15) / 1000 };
  const options = (workspaceIds: string[] = [], windows = WINDOWS) => readerOptions({ workspaceIds, analytics: { windows, toolLimit: 2 } });

  it('asks by_workspace once for the longest window, organization-wide without workspace_id', async () => {
    const [source] = createSources(['vibe_by_workspace'], options());
    expect(source?.endpoint).toBe('vibe_by_workspace');
    expect(source?.describe).toBe('GET analytics/vibe (by_workspace)');
    const { ctx, queries } = recordingContext(NOW, () => WORKSPACE_BODY);
    const snap = (await source!.fetch(ctx)) as VibeWorkspaceSnapshot;
    expect(queries).toEqual([RANGE]);
    expect(snap.fetchedAt).toBe(NOW);
    expect(flat(source!.toFamilies(snap))).toEqual(flat(vibeWorkspaceFamilies(snapshot())));
    expect(source!.seriesDropped?.(snap)).toEqual({ mistral_vibe_tool_calls_by_tool: 6 });
  });

  it('asks by_workspace once per workspace, in parallel', async () => {
    const pending: Array<() => void> = [];
    const { ctx, queries } = recordingContext(NOW, () => new Promise((resolve) => pending.push(() => resolve(WORKSPACE_BODY))));
    const reader = vibeByWorkspace.reader(options(['ws-a', 'ws-b']));
    const done = reader.fetch(ctx);
    await Promise.resolve();
    expect(queries).toEqual([
      { ...RANGE, workspace_id: 'ws-a' },
      { ...RANGE, workspace_id: 'ws-b' },
    ]);
    for (const resolve of pending) resolve();
    const snap = await done;
    expect(snap.byWorkspace).toBe(true);
    expect(snap.reports.map((r) => r.workspaceId)).toEqual(['ws-a', 'ws-b']);
    expect(reader.seriesDropped?.(snap)).toEqual({ mistral_vibe_tool_calls_by_tool: 12 });
  });

  it('asks by_organization once for the longest window, never with workspace_id', async () => {
    const [source] = createSources(['vibe_by_organization'], options(['ws-a'], [win(7), win(14)]));
    expect(source?.endpoint).toBe('vibe_by_organization');
    expect(source?.describe).toBe('GET analytics/vibe (by_organization)');
    const { ctx, queries } = recordingContext(NOW, (query) => ({ ...ORGANIZATION_BODY, ...query }));
    const snap = await source!.fetch(ctx);
    expect(queries).toEqual([{ start_time: Date.UTC(2026, 10, 1) / 1000, end_time: RANGE.end_time }]);
    expect(flat(source!.toFamilies(snap))['mistral_vibe_next_edit_lines{change="inserted",window="14d"}']).toBe(110);
  });

  it('lets a ParseError out of fetch for a body it cannot read', async () => {
    const { ctx } = recordingContext(NOW, () => ({ detail: 'x' }));
    await expect(vibeByWorkspace.reader(options()).fetch(ctx)).rejects.toThrow(ParseError);
    await expect(vibeByOrganization.reader(options()).fetch(ctx)).rejects.toThrow(ParseError);
  });
});
