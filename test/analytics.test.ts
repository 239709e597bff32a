import { describe, expect, it } from 'vitest';
import { pseudonymise } from '../src/sources/lechat-by-user.js';
import { samples, startHarness, useHarness, valueOf } from './support/harness.js';

const harness = useHarness();

const DAY_S = 86_400;
const WINDOWS = [
  ['1d', 1],
  ['7d', 7],
  ['30d', 30],
] as const;

/** [midnight `days` days ago, today's midnight] for the harness clock's `now`. */
function completeDays(nowMs: number, days: number): [number, number] {
  const midnight = Math.floor(nowMs / 86_400_000) * DAY_S;
  return [midnight - days * DAY_S, midnight];
}

/** Series of one metric, as `labels-string → value`. */
function seriesOf(text: string, name: string): Map<string, number> {
  return new Map([...samples(text)].filter(([k]) => k === name || k.startsWith(`${name}{`)));
}

describe('le Chat', () => {
  it('window totals equal the simulator truth for the last N complete UTC days: 1d is yesterday', async () => {
    const { sim, clock, refresh, scrape } = await harness();
    await refresh('lechat_by_user');
    const text = await scrape();
    const seen = new Set<number>();
    for (const [label, days] of WINDOWS) {
      const t = sim.truth.lechat(...completeDays(clock.now(), days));
      const w = { window: label };
      expect(valueOf(text, 'mistral_lechat_active_users', w)).toBe(t.activeUsers);
      expect(valueOf(text, 'mistral_lechat_messages', w)).toBe(t.messages);
      expect(valueOf(text, 'mistral_lechat_files', w)).toBe(t.files);
      expect(valueOf(text, 'mistral_lechat_images', w)).toBe(t.images);
      expect(valueOf(text, 'mistral_lechat_spreadsheets', w)).toBe(t.spreadsheets);
      expect(valueOf(text, 'mistral_lechat_conversations', w)).toBe(t.conversations);
      expect(valueOf(text, 'mistral_lechat_messages_to_agents', w)).toBe(t.messagesToAgents);
      seen.add(t.activeUsers);
    }
    expect(seen.size, 'each window gives a different answer').toBe(3);
    expect(text).not.toContain('user_id=');
    expect(sim.requests.filter((r) => r.endpoint === 'lechat_by_user').map((r) => r.query)).toEqual(
      WINDOWS.map(([, days]) => {
        const [start, end] = completeDays(clock.now(), days);
        return { start_time: String(start), end_time: String(end) };
      }),
    );
    expect(valueOf(text, 'mistral_analytics_complete_until_timestamp_seconds', { api_endpoint: 'lechat_by_user' })).toBe(
      completeDays(clock.now(), 1)[1],
    );
  });

  it('per agent, the busiest agents of the longest window in every window, the rest counted as dropped', async () => {
    const { sim, clock, refresh, scrape } = await harness({ env: { LECHAT_AGENT_LIMIT: '5' } });
    await refresh('lechat_by_agent');
    const text = await scrape();
    const longest = sim.truth.lechat(...completeDays(clock.now(), 30));
    const ranked = [...longest.byAgent.entries()].sort((a, b) => b[1].messages - a[1].messages || (a[0] < b[0] ? -1 : 1));
    const kept = ranked.slice(0, 5).map(([id]) => id);
    expect(longest.byAgent.size).toBeGreaterThan(5);
    for (const [label, days] of WINDOWS) {
      const t = sim.truth.lechat(...completeDays(clock.now(), days));
      for (const agent_id of kept) {
        const a = t.byAgent.get(agent_id);
        expect(valueOf(text, 'mistral_lechat_agent_messages', { agent_id, window: label })).toBe(a?.messages ?? 0);
        expect(valueOf(text, 'mistral_lechat_agent_users', { agent_id, window: label })).toBe(a?.users ?? 0);
        expect(valueOf(text, 'mistral_lechat_agent_conversations', { agent_id, window: label })).toBe(a?.conversations ?? 0);
      }
    }
    expect(seriesOf(text, 'mistral_lechat_agent_messages').size).toBe(5 * 3);
    const dropped = (longest.byAgent.size - 5) * 3;
    expect(valueOf(text, 'mistral_exporter_series_dropped', { metric: 'mistral_lechat_agent_messages' })).toBe(dropped);
    expect(valueOf(text, 'mistral_exporter_series_dropped', { metric: 'mistral_lechat_agent_users' })).toBe(dropped);
  });

  it('daily active users of the last complete UTC day, from by_time_stats', async () => {
    const { sim, clock, refresh, scrape } = await harness();
    await refresh('lechat_by_time');
    const [start, end] = completeDays(clock.now(), 1);
    const expected = sim.truth.lechat(start, end).activeUsers;
    expect(expected).toBeGreaterThan(0);
    expect(valueOf(await scrape(), 'mistral_lechat_daily_active_users')).toBe(expected);
    const request = sim.requests.find((r) => r.endpoint === 'lechat_by_time');
    expect(request?.query).toMatchObject({
      granularity: 'day',
      start_time: String(completeDays(clock.now(), 30)[0]),
      end_time: String(end),
    });
  });

  it('per-user series only when enabled: capped, and hashed with the key', async () => {
    const key = 'pseudonym-key';
    const { sim, clock, refresh, scrape } = await harness({
      env: { LECHAT_USER_METRICS: 'true', LECHAT_USER_LIMIT: '50', LECHAT_USER_ID_HASH_KEY: key },
    });
    await refresh('lechat_by_user');
    const text = await scrape();
    const longest = sim.truth.lechat(...completeDays(clock.now(), 30));
    const ranked = [...longest.byUser.entries()].sort((a, b) => b[1].messages - a[1].messages || (a[0] < b[0] ? -1 : 1));
    const kept = ranked.slice(0, 50);
    expect(kept).toHaveLength(50);
    for (const [userId, u] of kept) {
      const user_id = pseudonymise(userId, key);
      expect(valueOf(text, 'mistral_lechat_user_messages', { user_id, window: '30d' })).toBe(u.messages);
      expect(valueOf(text, 'mistral_lechat_user_conversations', { user_id, window: '30d' })).toBe(u.conversations);
      expect(valueOf(text, 'mistral_lechat_user_messages_to_agents', { user_id, window: '30d' })).toBe(u.messagesToAgents);
      const oneDay = sim.truth.lechat(...completeDays(clock.now(), 1)).byUser.get(userId);
      expect(valueOf(text, 'mistral_lechat_user_messages', { user_id, window: '1d' })).toBe(oneDay?.messages ?? 0);
    }
    expect(seriesOf(text, 'mistral_lechat_user_messages').size).toBe(50 * 3);
    expect(seriesOf(text, 'mistral_lechat_user_last_message_timestamp_seconds').size).toBe(50);
    expect(text).not.toMatch(new RegExp(kept.map(([id]) => id).join('|')));
    expect(valueOf(text, 'mistral_exporter_series_dropped', { metric: 'mistral_lechat_user_messages' })).toBe(
      (longest.byUser.size - 50) * 3,
    );
  });

  it('drops the series of users who are no longer in the answer', async () => {
    const { sim, clock, refresh, scrape } = await harness({ env: { LECHAT_USER_METRICS: 'true', ANALYTICS_WINDOWS: '1d' } });
    const users = async () => {
      await refresh('lechat_by_user');
      return new Set([...seriesOf(await scrape(), 'mistral_lechat_user_messages').keys()].map((k) => /user_id="([^"]+)"/.exec(k)?.[1]));
    };
    const truth = () => new Set(sim.truth.lechat(...completeDays(clock.now(), 1)).byUser.keys());
    const before = await users();
    expect(before).toEqual(truth());
    await clock.advance(DAY_S * 1000);
    const after = await users();
    expect(after).toEqual(truth());
    expect([...before].filter((u) => !after.has(u)).length).toBeGreaterThan(0);
  });
});

describe('Vibe Code', () => {
  it('sums each window over its complete UTC days, and takes active users from the last one', async () => {
    const { sim, clock, refresh, scrape } = await harness();
    await refresh('vibe_by_workspace');
    const text = await scrape();
    const durations = new Set<number>();
    for (const [label, days] of WINDOWS) {
      const t = sim.truth.vibe(...completeDays(clock.now(), days));
      expect(t.days).toHaveLength(days);
      const w = { window: label };
      expect(valueOf(text, 'mistral_vibe_sessions', { client: 'cli', ...w })).toBe(t.sessions.cli);
      expect(valueOf(text, 'mistral_vibe_sessions', { client: 'acp', ...w })).toBe(t.sessions.acp);
      expect(valueOf(text, 'mistral_vibe_sessions', { client: 'programmatic', ...w })).toBe(t.sessions.programmatic);
      expect(valueOf(text, 'mistral_vibe_sessions', { client: 'other', ...w })).toBe(t.sessions.unnamed);
      expect(valueOf(text, 'mistral_vibe_prompts', { client: 'cli', ...w })).toBe(t.prompts.cli);
      expect(valueOf(text, 'mistral_vibe_prompts', { client: 'other', ...w })).toBe(t.prompts.unnamed);
      expect(Object.keys(t.tokens).length, label).toBeGreaterThan(0);
      expect(Object.keys(t.toolCallsByName).length, label).toBeGreaterThan(0);
      for (const [model, tokens] of Object.entries(t.tokens)) {
        expect(valueOf(text, 'mistral_vibe_tokens', { model, token_type: 'input', ...w })).toBe(tokens.input);
        expect(valueOf(text, 'mistral_vibe_tokens', { model, token_type: 'cached', ...w })).toBe(tokens.cached);
      }
      expect(valueOf(text, 'mistral_vibe_tool_calls', { status: 'failure', ...w })).toBe(t.toolCalls.failure);
      expect(valueOf(text, 'mistral_vibe_tool_call_approvals', { approval: 'ask', ...w })).toBe(t.toolCalls.ask);
      for (const [tool, n] of Object.entries(t.toolCallsByName)) {
        expect(valueOf(text, 'mistral_vibe_tool_calls_by_tool', { tool, ...w })).toBe(n);
      }
      const duration = valueOf(text, 'mistral_vibe_session_duration_seconds', w) as number;
      expect(duration).toBeCloseTo(Number(t.durationHours) * 3600, 6);
      durations.add(duration);
    }
    expect(durations.size).toBe(3);
    const yesterday = sim.truth.vibe(...completeDays(clock.now(), 1));
    expect(valueOf(text, 'mistral_vibe_daily_active_users')).toBe(yesterday.activeUserDays.total);
    expect(valueOf(text, 'mistral_vibe_daily_active_users_by_client', { client: 'acp' })).toBe(yesterday.activeUserDays.acp);
    const [start, end] = completeDays(clock.now(), 30);
    expect(sim.requests.filter((r) => r.endpoint === 'vibe_by_workspace').map((r) => r.query)).toEqual([
      { start_time: String(start), end_time: String(end) },
    ]);
  });

  it('next-edit suggestions by outcome, surface and lines, per window', async () => {
    const { sim, clock, refresh, scrape } = await harness();
    await refresh('vibe_by_organization');
    const text = await scrape();
    for (const [label, days] of WINDOWS) {
      const t = sim.truth.nextEdit(...completeDays(clock.now(), days));
      const w = { window: label };
      expect(valueOf(text, 'mistral_vibe_next_edit_suggestions', { outcome: 'accepted', ...w })).toBe(t.accepted);
      expect(valueOf(text, 'mistral_vibe_next_edit_suggestions', { outcome: 'dismissed', ...w })).toBe(t.dismissed);
      expect(valueOf(text, 'mistral_vibe_next_edit_suggestions_by_surface', { surface: 'widget', ...w })).toBe(t.widget);
      expect(valueOf(text, 'mistral_vibe_next_edit_suggestions_by_surface', { surface: 'ghost_text', ...w })).toBe(
        t.suggestions - t.widget,
      );
      expect(valueOf(text, 'mistral_vibe_next_edit_lines', { change: 'inserted', ...w })).toBe(t.linesInserted);
    }
    expect(valueOf(text, 'mistral_vibe_next_edit_daily_active_users')).toBe(
      sim.truth.nextEdit(...completeDays(clock.now(), 1)).activeUserDays,
    );
  });

  it('moves its windows by one day at UTC midnight, never showing a partial day', async () => {
    const { sim, clock, refresh, scrape } = await harness();
    const justBefore = Date.UTC(2026, 10, 15, 23, 59, 59);
    await clock.set(justBefore);
    await refresh('vibe_by_organization');
    const before = valueOf(await scrape(), 'mistral_vibe_next_edit_suggestions', { outcome: 'accepted', window: '1d' });
    expect(before).toBe(sim.truth.nextEdit(Date.UTC(2026, 10, 14) / 1000, Date.UTC(2026, 10, 15) / 1000).accepted);
    await clock.advance(2000);
    await refresh('vibe_by_organization');
    const after = valueOf(await scrape(), 'mistral_vibe_next_edit_suggestions', { outcome: 'accepted', window: '1d' });
    expect(after).toBe(sim.truth.nextEdit(Date.UTC(2026, 10, 15) / 1000, Date.UTC(2026, 10, 16) / 1000).accepted);
    expect(after).not.toBe(before);
  });

  it('caps tools at VIBE_TOOL_LIMIT and counts what it leaves out', async () => {
    const { sim, clock, refresh, scrape } = await harness({ env: { VIBE_TOOL_LIMIT: '3' } });
    await refresh('vibe_by_workspace');
    const text = await scrape();
    const t = sim.truth.vibe(...completeDays(clock.now(), 30));
    const tools = Object.entries(t.toolCallsByName).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    expect(tools.length).toBeGreaterThan(3);
    expect([...seriesOf(text, 'mistral_vibe_tool_calls_by_tool').keys()].filter((k) => k.includes('window="30d"')).sort()).toEqual(
      tools
        .slice(0, 3)
        .map(([tool]) => `mistral_vibe_tool_calls_by_tool{tool="${tool}",window="30d"}`)
        .sort(),
    );
    expect(valueOf(text, 'mistral_exporter_series_dropped', { metric: 'mistral_vibe_tool_calls_by_tool' })).toBe((tools.length - 3) * 3);
  });

  it('per workspace when workspaces are configured', async () => {
    const probe = await startHarness();
    const ids = probe.sim.truth.workspaceIds;
    await probe.close();
    const { sim, clock, refresh, scrape } = await harness({ env: { MISTRAL_WORKSPACE_IDS: ids.join(',') } });
    await refresh('vibe_by_workspace');
    const text = await scrape();
    for (const workspace_id of ids) {
      const t = sim.truth.vibe(...completeDays(clock.now(), 7), workspace_id);
      expect(valueOf(text, 'mistral_vibe_sessions', { client: 'cli', window: '7d', workspace_id })).toBe(t.sessions.cli);
    }
    expect(text.split('\n').filter((l) => l.startsWith('mistral_vibe_') && !l.includes('workspace_id='))).toEqual([]);
    expect(
      sim.requests
        .filter((r) => r.endpoint === 'vibe_by_workspace')
        .map((r) => r.query.workspace_id)
        .sort(),
    ).toEqual([...ids].sort());
  });
});

describe('analytics faults', () => {
  it('a 422 costs that endpoint its freshness and says what the API said', async () => {
    const { sim, refreshAll, scrape, logs } = await harness();
    sim.setFault('lechat_by_agent', {
      kind: 'status',
      status: 422,
      body: { detail: [{ loc: ['query', 'start_time'], msg: 'Field required', type: 'missing' }] },
    });
    await refreshAll();
    const text = await scrape();
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'lechat_by_agent' })).toBe(0);
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'lechat_by_user' })).toBe(1);
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'vibe_by_workspace' })).toBe(1);
    expect(logs.lines().some((l) => l.api_endpoint === 'lechat_by_agent' && /422.*Field required/.test(l.msg))).toBe(true);
  });

  it('a malformed analytics answer is a parse error that keeps the last good data', async () => {
    const { sim, refresh, scrape } = await harness();
    await refresh('vibe_by_organization');
    const good = valueOf(await scrape(), 'mistral_vibe_next_edit_suggestions', { outcome: 'accepted', window: '7d' });
    sim.setFault('vibe_by_organization', { kind: 'malformed', variant: 'wrong-shape' });
    await refresh('vibe_by_organization');
    const text = await scrape();
    expect(valueOf(text, 'mistral_exporter_parse_errors_total', { api_endpoint: 'vibe_by_organization' })).toBe(1);
    expect(valueOf(text, 'mistral_vibe_next_edit_suggestions', { outcome: 'accepted', window: '7d' })).toBe(good);
  });

  it('finds the path layout that answers and reports it', async () => {
    const { refresh, scrape } = await harness({ sim: { layouts: ['current'] } });
    await refresh('lechat_by_user');
    const text = await scrape();
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'lechat_by_user' })).toBe(1);
    expect(
      valueOf(text, 'mistral_exporter_endpoint_path_info', {
        api_endpoint: 'lechat_by_user',
        path: 'analytics/vibe/work/usage/by_user_stats',
      }),
    ).toBe(1);
  });
});

describe('rule 5: a day the API has not loaded is unknown, a day without activity is 0', () => {
  const ANALYTICS = ['lechat_by_user', 'lechat_by_agent', 'lechat_by_time', 'vibe_by_workspace', 'vibe_by_organization'] as const;
  const DAILY = [
    'mistral_lechat_daily_active_users',
    'mistral_vibe_daily_active_users',
    'mistral_vibe_daily_active_users_by_client',
    'mistral_vibe_next_edit_daily_active_users',
  ];
  const completeUntil = (text: string, api_endpoint: string) =>
    valueOf(text, 'mistral_analytics_complete_until_timestamp_seconds', { api_endpoint });

  it('yesterday not loaded: no window (each needs it), no daily gauge, and every endpoint complete until the day before', async () => {
    const { sim, clock, refresh, scrape } = await harness({ sim: { unloadedDays: 1 }, env: { LECHAT_USER_METRICS: 'true' } });
    for (const endpoint of ANALYTICS) await refresh(endpoint);
    const text = await scrape();
    const [yesterday, today] = completeDays(clock.now(), 1);
    expect(sim.truth.analyticsLoadedUntilSeconds()).toBe(yesterday);
    // The simulator serves days before yesterday: the answers are not empty.
    expect(sim.truth.lechat(...completeDays(clock.now(), 30)).messages).toBeGreaterThan(0);
    expect(sim.truth.vibe(...completeDays(clock.now(), 30)).days).toHaveLength(29);
    for (const api_endpoint of ANALYTICS) {
      expect(valueOf(text, 'mistral_up', { api_endpoint }), api_endpoint).toBe(1);
      expect(completeUntil(text, api_endpoint), api_endpoint).toBe(yesterday);
    }
    const published = text.split('\n').filter((l) => /^mistral_(lechat|vibe)_/.test(l));
    expect(published).toEqual([]);
    for (const name of DAILY) expect(seriesOf(text, name).size, name).toBe(0);
    expect(today - yesterday).toBe(DAY_S);
  });

  it('the completeness gauge is withdrawn with the data it describes, after MAX_STALENESS', async () => {
    const { clock, refresh, scrape } = await harness();
    await refresh('vibe_by_organization');
    expect(completeUntil(await scrape(), 'vibe_by_organization')).toBe(completeDays(clock.now(), 1)[1]);
    // No refresh after this one: past MAX_STALENESS (2h in the harness) the data goes, and the gauge with it.
    await clock.advance(2 * 3_600_000 + 1000);
    const text = await scrape();
    expect(valueOf(text, 'mistral_vibe_next_edit_daily_active_users')).toBeUndefined();
    expect(completeUntil(text, 'vibe_by_organization')).toBeUndefined();
  });

  it('the last two days not loaded: complete until the start of the day before yesterday', async () => {
    const { clock, refresh, scrape } = await harness({ sim: { unloadedDays: 2 } });
    for (const endpoint of ANALYTICS) await refresh(endpoint);
    const text = await scrape();
    const [dayBefore] = completeDays(clock.now(), 2);
    for (const api_endpoint of ANALYTICS) expect(completeUntil(text, api_endpoint), api_endpoint).toBe(dayBefore);
  });

  it('every day loaded: each endpoint is complete until today, and its windows are published', async () => {
    const { clock, refresh, scrape } = await harness();
    for (const endpoint of ANALYTICS) await refresh(endpoint);
    const text = await scrape();
    const [, today] = completeDays(clock.now(), 1);
    for (const api_endpoint of ANALYTICS) expect(completeUntil(text, api_endpoint), api_endpoint).toBe(today);
    for (const [label] of WINDOWS) {
      expect(valueOf(text, 'mistral_lechat_messages', { window: label })).toBeGreaterThan(0);
      expect(valueOf(text, 'mistral_vibe_sessions', { client: 'cli', window: label })).toBeGreaterThan(0);
    }
  });

  it('a day loaded without activity is 0; le Chat by user cannot tell it from a day not loaded and withholds it', async () => {
    // Three users: yesterday (Saturday 2026-11-14) nobody used le Chat, Vibe Code or next-edit.
    const { sim, clock, refresh, scrape } = await harness({ sim: { org: { users: 3 } } });
    for (const endpoint of ANALYTICS) await refresh(endpoint);
    const text = await scrape();
    const [yesterday, today] = completeDays(clock.now(), 1);
    expect(sim.truth.lechat(yesterday, today).messages).toBe(0);
    expect(sim.truth.vibe(yesterday, today).days).toEqual(['2026-11-14']);
    expect(sim.truth.vibe(yesterday, today).sessions.total).toBe(0);
    expect(sim.truth.nextEdit(yesterday, today).suggestions).toBe(0);

    expect(valueOf(text, 'mistral_lechat_daily_active_users')).toBe(0);
    expect(valueOf(text, 'mistral_vibe_sessions', { client: 'cli', window: '1d' })).toBe(0);
    expect(valueOf(text, 'mistral_vibe_daily_active_users')).toBe(0);
    expect(valueOf(text, 'mistral_vibe_next_edit_suggestions', { outcome: 'accepted', window: '1d' })).toBe(0);
    expect(valueOf(text, 'mistral_vibe_next_edit_daily_active_users')).toBe(0);
    for (const api_endpoint of ['lechat_by_time', 'vibe_by_workspace', 'vibe_by_organization']) {
      expect(completeUntil(text, api_endpoint), api_endpoint).toBe(today);
    }
    // by_user: no message yesterday, so no evidence it is loaded: its windows are withheld, not 0.
    expect(seriesOf(text, 'mistral_lechat_messages').size).toBe(0);
    expect(completeUntil(text, 'lechat_by_user')).toBeLessThan(today);
  });
});
