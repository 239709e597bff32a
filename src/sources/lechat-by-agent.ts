import type { AnalyticsWindow } from '../config/settings.js';
import { family, REFRESHED, type FamilyDef } from './families.js';
import {
  count,
  counts,
  fetchDayWindows,
  id,
  isComplete,
  lechatCompleteUntil,
  rankOnLongest,
  readData,
  type Counts,
  type Windowed,
  dayWindowQueries,
} from './lechat-rows.js';
import { defineEndpoint, type MetricFamily, type Reader, type Sample, type Unreadable } from './types.js';
import { UnreadableTally } from './unreadable.js';

/** le Chat (Vibe Work) by_agent_stats: per agent and window, capped to the busiest agents. */

export interface AgentRow extends Counts {
  agentId: string;
  users: number;
}

export function parseAgentStats(body: unknown, tally = new UnreadableTally()): AgentRow[] {
  return readData(body, 'lechat by_agent_stats', tally, (row, where) => ({
    agentId: id(row, 'agent_id', where),
    ...counts(row, where),
    users: count(row, 'unique_users_count', where),
  }));
}

export const LECHAT_AGENT_FAMILIES = {
  messages: {
    name: 'mistral_lechat_agent_messages',
    help: `le Chat (Vibe Work) messages to one agent in the window (GET analytics by_agent_stats); capped by LECHAT_AGENT_LIMIT. ${REFRESHED}`,
    labelNames: ['agent_id', 'window'],
  },
  users: {
    name: 'mistral_lechat_agent_users',
    help: `le Chat (Vibe Work) users who messaged one agent in the window (unique_users_count, by_agent_stats); capped. ${REFRESHED}`,
    labelNames: ['agent_id', 'window'],
  },
  conversations: {
    name: 'mistral_lechat_agent_conversations',
    help: `le Chat (Vibe Work) conversations with one agent in the window (unique_conversations_count, by_agent_stats); capped. ${REFRESHED}`,
    labelNames: ['agent_id', 'window'],
  },
} as const satisfies Record<string, FamilyDef>;

export interface AgentStatsSnapshot {
  windows: Array<Windowed<AgentRow>>;
  unreadable?: Unreadable;
}

export interface AgentStatsOptions {
  windows: readonly AnalyticsWindow[];
  agentLimit: number;
}

export function agentStatsFamilies(s: AgentStatsSnapshot, options: AgentStatsOptions): MetricFamily[] {
  const { kept } = rankOnLongest(s.windows, (r) => r.agentId, options.agentLimit);
  const messages: Sample[] = [];
  const users: Sample[] = [];
  const conversations: Sample[] = [];
  // Rule 5: a window whose answer does not show its last day loaded is not published.
  for (const { window, rows } of s.windows.filter(isComplete)) {
    const byAgent = new Map(rows.map((r) => [r.agentId, r]));
    for (const agent_id of kept) {
      const r = byAgent.get(agent_id);
      const labels = { agent_id, window: window.label };
      messages.push({ labels, value: r?.messages ?? 0 });
      users.push({ labels, value: r?.users ?? 0 });
      conversations.push({ labels, value: r?.conversations ?? 0 });
    }
  }
  const F = LECHAT_AGENT_FAMILIES;
  return [family(F.messages, messages), family(F.users, users), family(F.conversations, conversations)];
}

export function agentStatsDropped(s: AgentStatsSnapshot, options: AgentStatsOptions): Record<string, number> {
  const { dropped } = rankOnLongest(s.windows, (r) => r.agentId, options.agentLimit);
  const n = dropped * s.windows.filter(isComplete).length;
  const F = LECHAT_AGENT_FAMILIES;
  return { [F.messages.name]: n, [F.users.name]: n, [F.conversations.name]: n };
}

export const lechatByAgent = defineEndpoint({
  id: 'lechat_by_agent',
  describe: 'GET analytics le Chat by_agent_stats',
  title: 'le Chat by_agent_stats',
  paths: {
    brief: 'analytics/lechat/usage/by_agent_stats',
    legacy: 'analytics/vibe/usage/by_agent_stats',
    current: 'analytics/vibe/work/usage/by_agent_stats',
  },
  intervalGroup: 'analytics',
  query: "`start_time`, `end_time`: the window's complete UTC days, one request per window",
  perWorkspace: false,
  families: Object.values(LECHAT_AGENT_FAMILIES),
  reader: ({ analytics }): Reader<AgentStatsSnapshot> => {
    const options: AgentStatsOptions = { windows: analytics.windows, agentLimit: analytics.agentLimit };
    return {
      fetch: (ctx) => fetchDayWindows(ctx, 'lechat by_agent_stats', options.windows, parseAgentStats),
      // The windows' rows, from the answers alone (the windows' days are in the queries).
      answersOnly: true,
      plannedQueries: (now) => dayWindowQueries(now, options.windows),
      toFamilies: (s) => agentStatsFamilies(s, options),
      completeUntil: lechatCompleteUntil,
      seriesDropped: (s) => agentStatsDropped(s, options),
      unreadable: (s) => s.unreadable ?? {},
    };
  },
});
