import { describe, expect, it } from 'vitest';
import type { SimEndpoint } from '../../src/simulator/index.js';
import { DAY_S, NOW_S, asObject, getJson, rowsOf, simulator, sum, windowQuery, type Json } from './helpers.js';

const PATHS: Record<
  Exclude<SimEndpoint, 'usage' | 'spend_limit' | 'rate_limit' | 'workspaces' | 'audit_events' | 'api_keys' | 'users' | 'users_invite'>,
  string
> = {
  lechat_by_user: 'analytics/lechat/usage/by_user_stats',
  lechat_by_agent: 'analytics/lechat/usage/by_agent_stats',
  lechat_by_time: 'analytics/lechat/usage/by_time_stats',
  vibe_by_workspace: 'analytics/vibe/usage/by_workspace',
  vibe_by_organization: 'analytics/vibe/usage/by_organization',
};

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
const isoDay = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 10);

describe('analytics validation', () => {
  for (const [endpoint, path] of Object.entries(PATHS)) {
    it(`${endpoint}: 422 with a FastAPI body when start_time or end_time is missing`, async () => {
      const sim = await simulator();
      expect(await getJson(`${sim.url}/${path}`)).toMatchObject({
        status: 422,
        body: {
          detail: [
            { loc: ['query', 'start_time'], msg: 'Field required', type: 'missing' },
            { loc: ['query', 'end_time'], msg: 'Field required', type: 'missing' },
          ],
        },
      });
      expect(await getJson(`${sim.url}/${path}?end_time=${NOW_S}`)).toEqual({
        status: 422,
        body: { detail: [{ loc: ['query', 'start_time'], msg: 'Field required', type: 'missing' }] },
        headers: expect.anything(),
      });
      expect((await getJson(`${sim.url}/${path}?start_time=${NOW_S}`)).status).toBe(422);
      const notInteger = await getJson(`${sim.url}/${path}?start_time=yesterday&end_time=${NOW_S}`);
      expect(notInteger.status).toBe(422);
      expect(asObject(rowsOf(notInteger.body, 'detail')[0])['type']).toBe('int_parsing');
      expect(sim.requests.map((r) => r.status)).toEqual([422, 422, 422, 422]);
    });
  }

  it('rejects an unknown granularity', async () => {
    const sim = await simulator();
    const { status, body } = await getJson(
      `${sim.url}/${PATHS.lechat_by_time}?${windowQuery(NOW_S - DAY_S, NOW_S, { granularity: 'minute' })}`,
    );
    expect(status).toBe(422);
    expect(rowsOf(body, 'detail')[0]).toMatchObject({ loc: ['query', 'granularity'], type: 'enum' });
  });

  it('echoes start_time and end_time', async () => {
    const sim = await simulator();
    const { body } = await getJson(`${sim.url}/${PATHS.lechat_by_agent}?${windowQuery(NOW_S - DAY_S, NOW_S)}`);
    expect(body).toMatchObject({ start_time: NOW_S - DAY_S, end_time: NOW_S });
  });
});

describe('le Chat analytics', () => {
  it('by_user_stats matches the truth user by user', async () => {
    const sim = await simulator();
    const start = NOW_S - 7 * DAY_S;
    const rows = rowsOf((await getJson(`${sim.url}/${PATHS.lechat_by_user}?${windowQuery(start, NOW_S)}`)).body);
    const truth = sim.truth.lechat(start, NOW_S);
    expect(rows).toHaveLength(truth.activeUsers);
    expect(sum(rows, 'messages_count')).toBe(truth.messages);
    for (const row of rows) {
      const user = truth.byUser.get(row['user_id'] as string)!;
      expect(user, `user ${row['user_id']}`).toBeDefined();
      expect(row).toEqual({
        user_id: row['user_id'],
        messages_count: user.messages,
        files_count: user.files,
        images_count: user.images,
        spreadsheets_count: user.spreadsheets,
        unique_conversations_count: user.conversations,
        last_message_at: iso(user.lastMessageAt),
        unique_agents_count: user.agents,
        messages_to_agents_count: user.messagesToAgents,
      });
      const last = Date.parse(row['last_message_at'] as string) / 1000;
      expect(last).toBeGreaterThanOrEqual(start);
      expect(last).toBeLessThan(NOW_S + 1);
      expect(row['messages_count'] as number).toBeGreaterThan(0);
    }
    expect(rows.some((r) => (r['messages_to_agents_count'] as number) > 0)).toBe(true);
    expect(rows.some((r) => (r['files_count'] as number) > 0)).toBe(true);
  });

  it('1-day, 7-day and 30-day windows give clearly different answers', async () => {
    const sim = await simulator();
    const answers = [];
    for (const days of [1, 7, 30]) {
      const rows = rowsOf((await getJson(`${sim.url}/${PATHS.lechat_by_user}?${windowQuery(NOW_S - days * DAY_S, NOW_S)}`)).body);
      answers.push({ users: new Set(rows.map((r) => r['user_id'])), messages: sum(rows, 'messages_count') });
    }
    const [day, week, month] = answers as [(typeof answers)[0], (typeof answers)[0], (typeof answers)[0]];
    expect(day.users.size).toBeGreaterThan(0);
    expect(week.users.size).toBeGreaterThan(day.users.size * 1.5);
    expect(month.users.size).toBeGreaterThan(week.users.size * 1.2);
    expect(month.messages).toBeGreaterThan(week.messages * 2);
    for (const user of day.users) expect(week.users.has(user)).toBe(true);
    expect(month.users.size).toBeLessThan(2000); // dormant and rare users exist
  });

  it('counts an hour where its instant falls: windows add up exactly', async () => {
    const sim = await simulator();
    const a = NOW_S - 3 * DAY_S + 1234;
    const b = NOW_S - DAY_S - 777;
    const messagesIn = async (start: number, end: number) =>
      sum(rowsOf((await getJson(`${sim.url}/${PATHS.lechat_by_user}?${windowQuery(start, end)}`)).body), 'messages_count');
    expect((await messagesIn(a, b)) + (await messagesIn(b, NOW_S))).toBe(await messagesIn(a, NOW_S));
    expect(sim.truth.lechat(a, b).messages + sim.truth.lechat(b, NOW_S).messages).toBe(sim.truth.lechat(a, NOW_S).messages);
    expect(await messagesIn(NOW_S, NOW_S)).toBe(0);
    expect(await messagesIn(NOW_S, NOW_S - DAY_S)).toBe(0);
  });

  it('a message at instant t counts in [t, t+1) and not in [t-1, t)', async () => {
    const sim = await simulator();
    const rows = rowsOf((await getJson(`${sim.url}/${PATHS.lechat_by_user}?${windowQuery(NOW_S - DAY_S, NOW_S)}`)).body);
    const sample = rows.slice(0, 5);
    expect(sample.length).toBeGreaterThan(0);
    for (const row of sample) {
      const t = Date.parse(row['last_message_at'] as string) / 1000;
      const at = rowsOf((await getJson(`${sim.url}/${PATHS.lechat_by_user}?${windowQuery(t, t + 1)}`)).body);
      expect(at.find((r) => r['user_id'] === row['user_id'])?.['last_message_at']).toBe(row['last_message_at']);
      const before = rowsOf((await getJson(`${sim.url}/${PATHS.lechat_by_user}?${windowQuery(t - 1, t)}`)).body);
      expect(before.find((r) => r['user_id'] === row['user_id'])).toBeUndefined();
    }
  });

  it('serves nothing from the future', async () => {
    const sim = await simulator();
    const future = NOW_S + 30 * DAY_S;
    const rows = rowsOf((await getJson(`${sim.url}/${PATHS.lechat_by_user}?${windowQuery(NOW_S - DAY_S, future)}`)).body);
    expect(rows).toEqual(rowsOf((await getJson(`${sim.url}/${PATHS.lechat_by_user}?${windowQuery(NOW_S - DAY_S, NOW_S + 1)}`)).body));
    for (const row of rows) expect(Date.parse(row['last_message_at'] as string) / 1000).toBeLessThanOrEqual(NOW_S);
    expect(rowsOf((await getJson(`${sim.url}/${PATHS.lechat_by_user}?${windowQuery(NOW_S + 1, future)}`)).body)).toEqual([]);
    const buckets = rowsOf(
      (await getJson(`${sim.url}/${PATHS.lechat_by_time}?${windowQuery(NOW_S - DAY_S, future, { granularity: 'hour' })}`)).body,
    );
    expect(buckets).toHaveLength(25);
    for (const b of buckets) expect(Date.parse(b['time_bucket'] as string) / 1000).toBeLessThanOrEqual(NOW_S);
  });

  it('by_agent_stats matches the truth agent by agent', async () => {
    const sim = await simulator();
    const start = NOW_S - 30 * DAY_S;
    const rows = rowsOf((await getJson(`${sim.url}/${PATHS.lechat_by_agent}?${windowQuery(start, NOW_S)}`)).body);
    const truth = sim.truth.lechat(start, NOW_S);
    expect(rows).toHaveLength(truth.activeAgents);
    expect(rows.length).toBeGreaterThan(10);
    expect(sum(rows, 'messages_count')).toBe(truth.messagesToAgents);
    for (const row of rows) {
      const agent = truth.byAgent.get(row['agent_id'] as string)!;
      expect(sim.truth.agentIds).toContain(row['agent_id']);
      expect(row).toEqual({
        agent_id: row['agent_id'],
        messages_count: agent.messages,
        files_count: agent.files,
        images_count: agent.images,
        spreadsheets_count: agent.spreadsheets,
        unique_conversations_count: agent.conversations,
        unique_users_count: agent.users,
        last_message_at: iso(agent.lastMessageAt),
      });
    }
  });

  it('by_time_stats: one row per bucket, distinct users per bucket, totals match', async () => {
    const sim = await simulator();
    const start = NOW_S - 7 * DAY_S;
    const rows = rowsOf((await getJson(`${sim.url}/${PATHS.lechat_by_time}?${windowQuery(start, NOW_S)}`)).body);
    // 12:00 to 12:00 over 7 days touches 8 calendar days; the first bucket starts before the window.
    expect(rows.map((r) => r['time_bucket'])).toEqual(Array.from({ length: 8 }, (_, i) => `${isoDay(start + i * DAY_S)}T00:00:00Z`));
    const truth = sim.truth.lechat(start, NOW_S);
    expect(sum(rows, 'messages_count')).toBe(truth.messages);
    expect(sum(rows, 'files_count')).toBe(truth.files);
    expect(sum(rows, 'messages_to_agents_count')).toBe(truth.messagesToAgents);
    for (const row of rows) {
      const bucket = Date.parse(row['time_bucket'] as string) / 1000;
      const slice = sim.truth.lechat(Math.max(bucket, start), Math.min(bucket + DAY_S, NOW_S));
      expect(row['unique_users_count']).toBe(slice.activeUsers);
      expect(row['unique_agents_count']).toBe(slice.activeAgents);
      expect(row['messages_count']).toBe(slice.messages);
      expect(row['unique_conversations_count']).toBe(slice.conversations);
    }
    expect(Math.max(...rows.map((r) => r['unique_users_count'] as number))).toBeLessThan(truth.activeUsers);
  });

  it.each([
    ['hour', 24 * 3, (d: Date) => d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0],
    ['day', 3, (d: Date) => d.getUTCHours() === 0],
    ['week', 5, (d: Date) => d.getUTCDay() === 1 && d.getUTCHours() === 0],
    ['month', 2, (d: Date) => d.getUTCDate() === 1 && d.getUTCHours() === 0],
  ] as const)('by_time_stats granularity %s aligns buckets', async (granularity, expectedRows, aligned) => {
    const sim = await simulator();
    const midnight = Math.floor(NOW_S / DAY_S) * DAY_S;
    const start =
      granularity === 'week' ? midnight - 28 * DAY_S : granularity === 'month' ? Date.UTC(2026, 9, 10) / 1000 : midnight - 3 * DAY_S;
    const end = granularity === 'hour' || granularity === 'day' ? midnight : NOW_S;
    const rows = rowsOf((await getJson(`${sim.url}/${PATHS.lechat_by_time}?${windowQuery(start, end, { granularity })}`)).body);
    expect(rows).toHaveLength(expectedRows);
    for (const row of rows) expect(aligned(new Date(row['time_bucket'] as string)), row['time_bucket'] as string).toBe(true);
    expect(sum(rows, 'messages_count')).toBe(sim.truth.lechat(start, end).messages);
    if (granularity === 'hour') expect(rows.some((r) => r['messages_count'] === 0)).toBe(true); // nights
  });
});

describe('Vibe Code analytics', () => {
  const start = NOW_S - 7 * DAY_S;

  it('by_workspace: parallel daily arrays, one element per day starting in the window, up to today', async () => {
    const sim = await simulator();
    const body = asObject((await getJson(`${sim.url}/${PATHS.vibe_by_workspace}?${windowQuery(start, NOW_S + 10 * DAY_S)}`)).body);
    const expectedDays = Array.from({ length: 7 }, (_, i) => isoDay(NOW_S - (6 - i) * DAY_S));
    for (const key of ['sessions', 'user_prompts', 'active_users', 'tool_calls', 'session_durations']) {
      expect(
        rowsOf(body, key).map((r) => r['day']),
        key,
      ).toEqual(expectedDays);
    }
    for (const key of ['consumed_tokens', 'tool_calls_by_name']) {
      for (const row of rowsOf(body, key)) expect(expectedDays).toContain(row['day']);
    }
    const models = new Set(rowsOf(body, 'consumed_tokens').map((r) => r['model']));
    expect([...models].sort()).toEqual([...sim.truth.vibeModels].sort());
    for (const row of rowsOf(body, 'session_durations')) expect(typeof row['total_duration_hours']).toBe('number');
  });

  it('by_workspace keeps its totals consistent', async () => {
    const sim = await simulator();
    const body = (await getJson(`${sim.url}/${PATHS.vibe_by_workspace}?${windowQuery(NOW_S - 30 * DAY_S, NOW_S)}`)).body;
    let unnamedDays = 0;
    for (const row of rowsOf(body, 'sessions')) {
      const named = (row['nb_sessions_cli'] as number) + (row['nb_sessions_acp'] as number) + (row['nb_sessions_programmatic'] as number);
      expect(row['nb_sessions'] as number).toBeGreaterThanOrEqual(named);
      if ((row['nb_sessions'] as number) > named) unnamedDays++;
    }
    expect(unnamedDays).toBeGreaterThan(0);
    for (const row of rowsOf(body, 'user_prompts')) {
      expect(row['nb_prompts_total'] as number).toBeGreaterThanOrEqual(
        (row['nb_prompts_cli'] as number) + (row['nb_prompts_acp'] as number) + (row['nb_prompts_programmatic'] as number),
      );
    }
    for (const row of rowsOf(body, 'active_users')) {
      const perClient = [row['nb_active_users_cli'], row['nb_active_users_acp'], row['nb_active_users_programmatic']] as number[];
      expect(row['nb_active_users_total'] as number).toBeGreaterThanOrEqual(Math.max(...perClient));
    }
    const byName = new Map<string, number>();
    for (const row of rowsOf(body, 'tool_calls_by_name'))
      byName.set(row['day'] as string, (byName.get(row['day'] as string) ?? 0) + (row['count'] as number));
    for (const row of rowsOf(body, 'tool_calls')) {
      const total = row['total'] as number;
      expect((row['status_success'] as number) + (row['status_failure'] as number) + (row['status_skipped'] as number)).toBe(total);
      expect((row['approval_ask'] as number) + (row['approval_always'] as number) + (row['approval_never'] as number)).toBe(total);
      expect(byName.get(row['day'] as string) ?? 0).toBe(total);
    }
    const toolNames = new Set(rowsOf(body, 'tool_calls_by_name').map((r) => r['tool_name']));
    expect(toolNames.size).toBeGreaterThanOrEqual(15);
  });

  it('by_workspace matches the truth, org-wide and per workspace', async () => {
    const sim = await simulator();
    const check = async (workspaceId?: string) => {
      const extra: Record<string, string> = workspaceId ? { workspace_id: workspaceId } : {};
      const body = (await getJson(`${sim.url}/${PATHS.vibe_by_workspace}?${windowQuery(start, NOW_S, extra)}`)).body;
      const truth = sim.truth.vibe(start, NOW_S, workspaceId);
      expect(rowsOf(body, 'sessions').map((r) => r['day'])).toEqual(truth.days);
      expect(sum(rowsOf(body, 'sessions'), 'nb_sessions')).toBe(truth.sessions.total);
      expect(sum(rowsOf(body, 'sessions'), 'nb_sessions_cli')).toBe(truth.sessions.cli);
      expect(sum(rowsOf(body, 'user_prompts'), 'nb_prompts_total')).toBe(truth.prompts.total);
      expect(sum(rowsOf(body, 'active_users'), 'nb_active_users_total')).toBe(truth.activeUserDays.total);
      expect(sum(rowsOf(body, 'active_users'), 'nb_active_users_programmatic')).toBe(truth.activeUserDays.programmatic);
      expect(sum(rowsOf(body, 'tool_calls'), 'total')).toBe(truth.toolCalls.total);
      expect(sum(rowsOf(body, 'tool_calls'), 'status_failure')).toBe(truth.toolCalls.failure);
      expect(sum(rowsOf(body, 'tool_calls'), 'approval_never')).toBe(truth.toolCalls.never);
      const tokens: Record<string, { input: number; output: number; cached: number }> = {};
      for (const row of rowsOf(body, 'consumed_tokens')) {
        const t = (tokens[row['model'] as string] ??= { input: 0, output: 0, cached: 0 });
        t.input += row['input_tokens'] as number;
        t.output += row['output_tokens'] as number;
        t.cached += row['cached_tokens'] as number;
      }
      expect(tokens).toEqual(truth.tokens);
      const byName: Record<string, number> = {};
      for (const row of rowsOf(body, 'tool_calls_by_name'))
        byName[row['tool_name'] as string] = (byName[row['tool_name'] as string] ?? 0) + (row['count'] as number);
      expect(byName).toEqual(truth.toolCallsByName);
      const tenths = rowsOf(body, 'session_durations').reduce((acc, r) => acc + Math.round((r['total_duration_hours'] as number) * 10), 0);
      expect(tenths / 10).toBe(Number(truth.durationHours));
      return truth.sessions.total;
    };
    const orgSessions = await check();
    let workspaceSessions = 0;
    for (const id of sim.truth.workspaceIds) {
      const sessions = await check(id);
      expect(sessions).toBeGreaterThan(0);
      workspaceSessions += sessions;
    }
    expect(workspaceSessions).toBeLessThan(orgSessions); // some Vibe users belong to no workspace
    const unknown = (await getJson(`${sim.url}/${PATHS.vibe_by_workspace}?${windowQuery(start, NOW_S, { workspace_id: 'nope' })}`)).body;
    expect(sum(rowsOf(unknown, 'sessions'), 'nb_sessions')).toBe(0);
    expect(rowsOf(unknown, 'consumed_tokens')).toEqual([]);
  });

  it('by_organization keeps next-edit totals consistent and matches the truth', async () => {
    const sim = await simulator();
    const body = (await getJson(`${sim.url}/${PATHS.vibe_by_organization}?${windowQuery(start, NOW_S)}`)).body;
    const suggestions = rowsOf(body, 'next_edit_suggestions');
    const truth = sim.truth.nextEdit(start, NOW_S);
    expect(suggestions.map((r) => r['day'])).toEqual(truth.days);
    for (const row of suggestions) {
      const total = row['total_suggestions'] as number;
      const outcomes = ['outcome_accepted', 'outcome_rejected', 'outcome_timeout', 'outcome_aborted', 'outcome_dismissed'].reduce(
        (acc, k) => acc + (row[k] as number),
        0,
      );
      expect(outcomes).toBe(total);
      expect((row['surface_widget'] as number) + (row['surface_ghost_text'] as number)).toBe(total);
      expect((row['force_generated_true'] as number) + (row['force_generated_false'] as number)).toBe(total);
    }
    for (const row of rowsOf(body, 'next_edit_modified_loc')) {
      expect(row['lines_total']).toBe(
        (row['lines_inserted'] as number) + (row['lines_deleted'] as number) + (row['lines_unchanged'] as number),
      );
    }
    expect(sum(suggestions, 'total_suggestions')).toBe(truth.suggestions);
    expect(sum(suggestions, 'outcome_accepted')).toBe(truth.accepted);
    expect(sum(suggestions, 'force_generated_true')).toBe(truth.forced);
    expect(sum(rowsOf(body, 'next_edit_active_users'), 'nb_active_users')).toBe(truth.activeUserDays);
    expect(sum(rowsOf(body, 'next_edit_modified_loc'), 'lines_inserted')).toBe(truth.linesInserted);
    expect(truth.suggestions).toBeGreaterThan(0);
  });

  it('today is partial and grows with the clock', async () => {
    let now = Date.UTC(2026, 10, 12, 9, 0);
    const sim = await simulator({ now: () => now });
    const today = Date.UTC(2026, 10, 12) / 1000;
    const sessionsToday = () =>
      (sim.bodyFor('vibe_by_workspace', { start_time: String(today), end_time: String(today + DAY_S) }) as Json)['sessions'] as Json[];
    const morning = sessionsToday()[0]!['nb_sessions'] as number;
    now = Date.UTC(2026, 10, 12, 17, 0);
    const evening = sessionsToday()[0]!['nb_sessions'] as number;
    expect(evening).toBeGreaterThan(morning);
    now = Date.UTC(2026, 10, 11, 23, 0);
    expect(sessionsToday()).toEqual([]);
  });
});

describe('scale', () => {
  it('serves by_user_stats over 30 days for 10 000 users', async () => {
    const sim = await simulator({ org: { users: 10_000 } });
    expect(sim.truth.userIds).toHaveLength(10_000);
    const rows = rowsOf((await getJson(`${sim.url}/${PATHS.lechat_by_user}?${windowQuery(NOW_S - 30 * DAY_S, NOW_S)}`)).body);
    expect(rows.length).toBeGreaterThan(5000);
    expect(new Set(rows.map((r) => r['user_id'])).size).toBe(rows.length);
  });
});

describe('a data lake that has not loaded the last days (unloadedDays)', () => {
  const midnight = Math.floor(NOW_S / DAY_S) * DAY_S;
  const yesterday = midnight - DAY_S;
  const range = windowQuery(midnight - 7 * DAY_S, midnight);
  const days = (body: unknown, ...arrays: string[]) => new Set(arrays.flatMap((a) => rowsOf(body, a).map((r) => asObject(r)['day'])));

  it('serves no element of the unloaded day in any Vibe Code array, and the loaded days as before', async () => {
    const sim = await simulator({ unloadedDays: 1 });
    const full = await simulator();
    const ws = ['sessions', 'user_prompts', 'active_users', 'consumed_tokens', 'tool_calls', 'tool_calls_by_name', 'session_durations'];
    const byWorkspace = (await getJson(`${sim.url}/${PATHS.vibe_by_workspace}?${range}`)).body;
    expect(days(byWorkspace, ...ws).has(isoDay(yesterday))).toBe(false);
    expect(days(byWorkspace, 'sessions')).toEqual(
      new Set([6, 5, 4, 3, 2].map((d) => isoDay(midnight - d * DAY_S)).concat(isoDay(midnight - 7 * DAY_S))),
    );
    const fullBody = (await getJson(`${full.url}/${PATHS.vibe_by_workspace}?${range}`)).body;
    expect(rowsOf(byWorkspace, 'sessions')).toEqual(rowsOf(fullBody, 'sessions').filter((r) => asObject(r)['day'] !== isoDay(yesterday)));
    const org = ['next_edit_suggestions', 'next_edit_active_users', 'next_edit_modified_loc'];
    const byOrganization = (await getJson(`${sim.url}/${PATHS.vibe_by_organization}?${range}`)).body;
    expect(days(byOrganization, ...org).has(isoDay(yesterday))).toBe(false);
    expect(days(byOrganization, ...org).has(isoDay(yesterday - DAY_S))).toBe(true);
  });

  it('serves no by_time_stats bucket for it, and by_user/by_agent aggregates without its activity', async () => {
    const sim = await simulator({ unloadedDays: 1 });
    const buckets = rowsOf(
      (await getJson(`${sim.url}/${PATHS.lechat_by_time}?${windowQuery(midnight - 7 * DAY_S, midnight, { granularity: 'day' })}`)).body,
      'data',
    );
    expect(buckets.map((b) => asObject(b)['time_bucket'])).toEqual([7, 6, 5, 4, 3, 2].map((d) => iso(midnight - d * DAY_S)));
    const oneDay = windowQuery(yesterday, midnight);
    expect(rowsOf((await getJson(`${sim.url}/${PATHS.lechat_by_user}?${oneDay}`)).body, 'data')).toEqual([]);
    expect(rowsOf((await getJson(`${sim.url}/${PATHS.lechat_by_agent}?${oneDay}`)).body, 'data')).toEqual([]);
    const week = rowsOf((await getJson(`${sim.url}/${PATHS.lechat_by_user}?${range}`)).body, 'data');
    expect(week.length).toBeGreaterThan(0);
    for (const row of week) expect(Date.parse(String(asObject(row)['last_message_at'])) / 1000).toBeLessThan(yesterday);
    expect(sum(week, 'messages_count')).toBe(sim.truth.lechat(midnight - 7 * DAY_S, yesterday).messages);
    expect(sim.truth.analyticsLoadedUntilSeconds()).toBe(yesterday);
  });

  it('refuses a negative or fractional number of days', async () => {
    await expect(simulator({ unloadedDays: -1 })).rejects.toThrow(RangeError);
    await expect(simulator({ unloadedDays: 0.5 })).rejects.toThrow(RangeError);
  });
});
