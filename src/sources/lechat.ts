import { createHmac } from 'node:crypto';
import type { AnalyticsWindow } from '../config/settings.js';
import { parseIsoTimestamp } from '../dates.js';
import type { Secret } from '../secret.js';
import { topIds } from './caps.js';
import { family, type FamilyDef } from './families.js';
import { expectArray, expectObject, optionalString, optionalTimestampSeconds, toNumber, type JsonObject } from './parse.js';
import { ParseError, type FetchContext, type MetricFamily, type Sample, type Source } from './types.js';
import { completeDaysRange, lastCompleteDay, longest, rollingRange } from './windows.js';

/**
 * le Chat analytics: by user and by agent over rolling windows (one request
 * per window, exactly [now - window, now]), and the daily active users of
 * the last complete UTC day from by_time_stats.
 */

const REFRESHED = 'Refreshed in the background on an interval, not at scrape time.';

/** The counts every by-user and by-agent row carries. */
interface Counts {
  messages: number;
  files: number;
  images: number;
  spreadsheets: number;
  conversations: number;
}

export interface UserRow extends Counts {
  userId: string;
  messagesToAgents: number;
  lastMessageAt: number | undefined;
}

export interface AgentRow extends Counts {
  agentId: string;
  users: number;
}

export interface Windowed<R> {
  window: AnalyticsWindow;
  rows: R[];
}

function data(body: unknown, what: string): JsonObject[] {
  const root = expectObject(body, what);
  if (root.data === undefined) throw new ParseError(`${what}: the answer has no data array`);
  return expectArray(root.data, `${what}.data`).map((row, i) => expectObject(row, `${what}.data[${i}]`));
}

/** A count: a number or numeric string; absent or null counts 0 (the API is a preview). */
function count(row: JsonObject, field: string, where: string): number {
  const v = row[field];
  return v === undefined || v === null ? 0 : toNumber(v, `${where}.${field}`);
}

function counts(row: JsonObject, where: string): Counts {
  return {
    messages: count(row, 'messages_count', where),
    files: count(row, 'files_count', where),
    images: count(row, 'images_count', where),
    spreadsheets: count(row, 'spreadsheets_count', where),
    conversations: count(row, 'unique_conversations_count', where),
  };
}

function id(row: JsonObject, field: string, where: string): string {
  const v = optionalString(row[field], `${where}.${field}`);
  if (v === undefined || v === '') throw new ParseError(`${where}.${field}: missing`);
  return v;
}

export function parseUserStats(body: unknown): UserRow[] {
  return data(body, 'lechat by_user_stats').map((row, i) => {
    const where = `lechat by_user_stats.data[${i}]`;
    return {
      userId: id(row, 'user_id', where),
      ...counts(row, where),
      messagesToAgents: count(row, 'messages_to_agents_count', where),
      lastMessageAt: optionalTimestampSeconds(row.last_message_at),
    };
  });
}

export function parseAgentStats(body: unknown): AgentRow[] {
  return data(body, 'lechat by_agent_stats').map((row, i) => {
    const where = `lechat by_agent_stats.data[${i}]`;
    return { agentId: id(row, 'agent_id', where), ...counts(row, where), users: count(row, 'unique_users_count', where) };
  });
}

/** `unique_users_count` of the bucket starting at `day` (YYYY-MM-DD); 0 when the API has no such bucket. */
export function parseDailyActiveUsers(body: unknown, day: string): number {
  const rows = data(body, 'lechat by_time_stats');
  const dayStart = (parseIsoTimestamp(day) as number) / 1000;
  let users = 0;
  rows.forEach((row, i) => {
    const where = `lechat by_time_stats.data[${i}]`;
    if (optionalTimestampSeconds(row.time_bucket) === dayStart) users = count(row, 'unique_users_count', where);
  });
  return users;
}

/** One request per window, exactly [now - window, now], each answer parsed into rows. */
async function fetchRollingWindows<R>(
  ctx: FetchContext,
  endpoint: 'lechat_by_user' | 'lechat_by_agent',
  windows: readonly AnalyticsWindow[],
  parse: (body: unknown) => R[],
): Promise<Array<Windowed<R>>> {
  return Promise.all(
    windows.map(async (window) => {
      const res = await ctx.api.get(endpoint, { query: { ...rollingRange(ctx.now, window) }, signal: ctx.signal });
      return { window, rows: parse(res.body) };
    }),
  );
}

// ---------------------------------------------------------------- by user

export const LECHAT_USER_FAMILIES = {
  activeUsers: {
    name: 'mistral_lechat_active_users',
    help: `le Chat users with at least one message in the window (rows of GET analytics by_user_stats). ${REFRESHED}`,
    labelNames: ['window'],
  },
  messages: {
    name: 'mistral_lechat_messages',
    help: `le Chat messages in the window, all users (sum of messages_count, by_user_stats). ${REFRESHED}`,
    labelNames: ['window'],
  },
  files: {
    name: 'mistral_lechat_files',
    help: `Files sent to le Chat in the window, all users (sum of files_count, by_user_stats). ${REFRESHED}`,
    labelNames: ['window'],
  },
  images: {
    name: 'mistral_lechat_images',
    help: `Images in le Chat in the window, all users (sum of images_count, by_user_stats). ${REFRESHED}`,
    labelNames: ['window'],
  },
  spreadsheets: {
    name: 'mistral_lechat_spreadsheets',
    help: `Spreadsheets in le Chat in the window, all users (sum of spreadsheets_count, by_user_stats). ${REFRESHED}`,
    labelNames: ['window'],
  },
  conversations: {
    name: 'mistral_lechat_conversations',
    help: `le Chat conversations with a message in the window, all users (sum of unique_conversations_count, by_user_stats). ${REFRESHED}`,
    labelNames: ['window'],
  },
  messagesToAgents: {
    name: 'mistral_lechat_messages_to_agents',
    help: `le Chat messages sent to agents in the window, all users (sum of messages_to_agents_count, by_user_stats). ${REFRESHED}`,
    labelNames: ['window'],
  },
  userMessages: {
    name: 'mistral_lechat_user_messages',
    help: `le Chat messages of one user in the window (by_user_stats); opt-in (LECHAT_USER_METRICS), capped by LECHAT_USER_LIMIT. ${REFRESHED}`,
    labelNames: ['user_id', 'window'],
  },
  userConversations: {
    name: 'mistral_lechat_user_conversations',
    help: `le Chat conversations of one user in the window (by_user_stats); opt-in, capped. ${REFRESHED}`,
    labelNames: ['user_id', 'window'],
  },
  userMessagesToAgents: {
    name: 'mistral_lechat_user_messages_to_agents',
    help: `le Chat messages of one user to agents in the window (by_user_stats); opt-in, capped. ${REFRESHED}`,
    labelNames: ['user_id', 'window'],
  },
  userLastMessage: {
    name: 'mistral_lechat_user_last_message_timestamp_seconds',
    help: `When the user last sent a le Chat message within the longest window (last_message_at, by_user_stats); opt-in, capped. Finds idle seats. ${REFRESHED}`,
    labelNames: ['user_id'],
  },
} as const satisfies Record<string, FamilyDef>;

const PER_USER_WINDOWED = ['userMessages', 'userConversations', 'userMessagesToAgents'] as const;

export interface UserStatsSnapshot {
  windows: Array<Windowed<UserRow>>;
}

export interface UserStatsOptions {
  windows: readonly AnalyticsWindow[];
  userMetrics: boolean;
  userLimit: number;
  /** When set, user ids are shown as a keyed hash. */
  userIdHashKey: Secret | undefined;
}

/** A keyed hash of a user id: stable for one key, unlinkable to the id without it. */
export function pseudonymise(userId: string, key: string): string {
  return createHmac('sha256', key).update(userId).digest('hex').slice(0, 16);
}

function sum(rows: readonly Counts[], field: keyof Counts): number;
function sum<R>(rows: readonly R[], pick: (r: R) => number): number;
function sum<R>(rows: readonly R[], f: keyof Counts | ((r: R) => number)): number {
  const pick = typeof f === 'function' ? f : (r: R) => (r as unknown as Counts)[f];
  return rows.reduce((n, r) => n + pick(r), 0);
}

/** Ranks on the longest window by messages: the kept ids and how many were left out. */
function rankOnLongest<R>(windows: ReadonlyArray<Windowed<R>>, idOf: (r: R) => string, limit: number) {
  const last = windows[windows.length - 1];
  return topIds(new Map((last?.rows ?? []).map((r) => [idOf(r), (r as Counts).messages])), limit);
}

export function userStatsFamilies(s: UserStatsSnapshot, options: UserStatsOptions): MetricFamily[] {
  const F = LECHAT_USER_FAMILIES;
  const perWindow = (pick: (rows: UserRow[]) => number): Sample[] =>
    s.windows.map(({ window, rows }) => ({ labels: { window: window.label }, value: pick(rows) }));
  const families = [
    family(F.activeUsers, perWindow((rows) => rows.filter((r) => r.messages > 0).length)),
    family(F.messages, perWindow((rows) => sum(rows, 'messages'))),
    family(F.files, perWindow((rows) => sum(rows, 'files'))),
    family(F.images, perWindow((rows) => sum(rows, 'images'))),
    family(F.spreadsheets, perWindow((rows) => sum(rows, 'spreadsheets'))),
    family(F.conversations, perWindow((rows) => sum(rows, 'conversations'))),
    family(F.messagesToAgents, perWindow((rows) => sum(rows, (r: UserRow) => r.messagesToAgents))),
  ];
  if (!options.userMetrics) return families;

  const { kept } = rankOnLongest(s.windows, (r) => r.userId, options.userLimit);
  const key = options.userIdHashKey?.reveal();
  const label = new Map([...kept].map((u) => [u, key === undefined ? u : pseudonymise(u, key)]));
  const values: Record<(typeof PER_USER_WINDOWED)[number], Sample[]> = { userMessages: [], userConversations: [], userMessagesToAgents: [] };
  for (const { window, rows } of s.windows) {
    const byUser = new Map(rows.map((r) => [r.userId, r]));
    // The same users in every window: a kept user idle in a shorter window shows 0 there.
    for (const [userId, user_id] of label) {
      const r = byUser.get(userId);
      const labels = { user_id, window: window.label };
      values.userMessages.push({ labels, value: r?.messages ?? 0 });
      values.userConversations.push({ labels, value: r?.conversations ?? 0 });
      values.userMessagesToAgents.push({ labels, value: r?.messagesToAgents ?? 0 });
    }
  }
  const lastMessage: Sample[] = [];
  for (const r of s.windows[s.windows.length - 1]?.rows ?? []) {
    const user_id = label.get(r.userId);
    if (user_id !== undefined && r.lastMessageAt !== undefined) lastMessage.push({ labels: { user_id }, value: r.lastMessageAt });
  }
  return [
    ...families,
    family(F.userMessages, values.userMessages),
    family(F.userConversations, values.userConversations),
    family(F.userMessagesToAgents, values.userMessagesToAgents),
    family(F.userLastMessage, lastMessage),
  ];
}

export function userStatsDropped(s: UserStatsSnapshot, options: UserStatsOptions): Record<string, number> {
  if (!options.userMetrics) return {};
  const { dropped } = rankOnLongest(s.windows, (r) => r.userId, options.userLimit);
  const F = LECHAT_USER_FAMILIES;
  return {
    [F.userMessages.name]: dropped * s.windows.length,
    [F.userConversations.name]: dropped * s.windows.length,
    [F.userMessagesToAgents.name]: dropped * s.windows.length,
    [F.userLastMessage.name]: dropped,
  };
}

export function lechatByUserSource(options: UserStatsOptions): Source<UserStatsSnapshot> {
  return {
    endpoint: 'lechat_by_user',
    describe: 'GET analytics le Chat by_user_stats',
    fetch: async (ctx) => ({ windows: await fetchRollingWindows(ctx, 'lechat_by_user', options.windows, parseUserStats) }),
    toFamilies: (s) => userStatsFamilies(s, options),
    seriesDropped: (s) => userStatsDropped(s, options),
  };
}

// ---------------------------------------------------------------- by agent

export const LECHAT_AGENT_FAMILIES = {
  messages: {
    name: 'mistral_lechat_agent_messages',
    help: `le Chat messages to one agent in the window (GET analytics by_agent_stats); capped by LECHAT_AGENT_LIMIT. ${REFRESHED}`,
    labelNames: ['agent_id', 'window'],
  },
  users: {
    name: 'mistral_lechat_agent_users',
    help: `le Chat users who messaged one agent in the window (unique_users_count, by_agent_stats); capped. ${REFRESHED}`,
    labelNames: ['agent_id', 'window'],
  },
  conversations: {
    name: 'mistral_lechat_agent_conversations',
    help: `le Chat conversations with one agent in the window (unique_conversations_count, by_agent_stats); capped. ${REFRESHED}`,
    labelNames: ['agent_id', 'window'],
  },
} as const satisfies Record<string, FamilyDef>;

export interface AgentStatsSnapshot {
  windows: Array<Windowed<AgentRow>>;
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
  for (const { window, rows } of s.windows) {
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
  const n = dropped * s.windows.length;
  const F = LECHAT_AGENT_FAMILIES;
  return { [F.messages.name]: n, [F.users.name]: n, [F.conversations.name]: n };
}

export function lechatByAgentSource(options: AgentStatsOptions): Source<AgentStatsSnapshot> {
  return {
    endpoint: 'lechat_by_agent',
    describe: 'GET analytics le Chat by_agent_stats',
    fetch: async (ctx) => ({ windows: await fetchRollingWindows(ctx, 'lechat_by_agent', options.windows, parseAgentStats) }),
    toFamilies: (s) => agentStatsFamilies(s, options),
    seriesDropped: (s) => agentStatsDropped(s, options),
  };
}

// ---------------------------------------------------------------- by time

export const LECHAT_TIME_FAMILIES = {
  dailyActiveUsers: {
    name: 'mistral_lechat_daily_active_users',
    help: `le Chat users active on the last complete UTC day (unique_users_count of GET analytics by_time_stats, granularity day). ${REFRESHED}`,
    labelNames: [],
  },
} as const satisfies Record<string, FamilyDef>;

export interface TimeStatsSnapshot {
  day: string;
  dailyActiveUsers: number;
}

export function lechatByTimeSource(): Source<TimeStatsSnapshot> {
  return {
    endpoint: 'lechat_by_time',
    describe: 'GET analytics le Chat by_time_stats',
    async fetch(ctx: FetchContext) {
      const day = lastCompleteDay(ctx.now);
      const res = await ctx.api.get('lechat_by_time', {
        query: { ...completeDaysRange(ctx.now, 1), granularity: 'day' },
        signal: ctx.signal,
      });
      return { day, dailyActiveUsers: parseDailyActiveUsers(res.body, day) };
    },
    toFamilies: (s) => [family(LECHAT_TIME_FAMILIES.dailyActiveUsers, [{ labels: {}, value: s.dailyActiveUsers }])],
  };
}
