import { createHmac } from 'node:crypto';
import type { AnalyticsWindow } from '../config/settings.js';
import type { Secret } from '../secret.js';
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
  readDataSteps,
  type Counts,
  type Windowed,
  dayWindowQueries,
} from './lechat-rows.js';
import { DAY_S } from './windows.js';
import { defineEndpoint, type MetricFamily, type Reader, type Sample, type Unreadable } from './types.js';
import type { JsonObject } from './parse.js';
import { UnreadableTally } from './unreadable.js';
import { runSliced, runWhole, SLICE_ITEMS, type Steps } from '../slices.js';

/** le Chat (Vibe Work) by_user_stats: per-window organization totals, and opt-in per-user series. */

export interface UserRow extends Counts {
  userId: string;
  messagesToAgents: number;
}

const USER_STATS = 'lechat by_user_stats';
/** One function, so that the ranking made for toFamilies is found again by seriesDropped (rankOnLongest keeps it). */
const userIdOf = (r: UserRow) => r.userId;

function readUserRow(row: JsonObject, where: string): UserRow {
  return {
    userId: id(row, 'user_id', where),
    ...counts(row, where),
    messagesToAgents: count(row, 'messages_to_agents_count', where),
  };
}

export function parseUserStats(body: unknown, tally = new UnreadableTally()): UserRow[] {
  return readData(body, USER_STATS, tally, readUserRow);
}

/** `parseUserStats` in slices between which the event loop runs (an answer holds a row per active member). */
function parseUserStatsSliced(body: unknown, tally: UnreadableTally): Promise<UserRow[]> {
  return runSliced(readDataSteps(body, USER_STATS, tally, readUserRow));
}

export const LECHAT_USER_FAMILIES = {
  activeUsers: {
    name: 'mistral_lechat_active_users',
    help: `le Chat (Vibe Work) users with at least one message in the window (rows of GET analytics by_user_stats). ${REFRESHED}`,
    labelNames: ['window'],
  },
  messages: {
    name: 'mistral_lechat_messages',
    help: `le Chat (Vibe Work) messages in the window, all users (sum of messages_count, by_user_stats). ${REFRESHED}`,
    labelNames: ['window'],
  },
  files: {
    name: 'mistral_lechat_files',
    help: `Files sent to le Chat (Vibe Work) in the window, all users (sum of files_count, by_user_stats). ${REFRESHED}`,
    labelNames: ['window'],
  },
  images: {
    name: 'mistral_lechat_images',
    help: `Images in le Chat (Vibe Work) in the window, all users (sum of images_count, by_user_stats). ${REFRESHED}`,
    labelNames: ['window'],
  },
  spreadsheets: {
    name: 'mistral_lechat_spreadsheets',
    help: `Spreadsheets in le Chat (Vibe Work) in the window, all users (sum of spreadsheets_count, by_user_stats). ${REFRESHED}`,
    labelNames: ['window'],
  },
  conversations: {
    name: 'mistral_lechat_conversations',
    help: `le Chat (Vibe Work) conversations with a message in the window, all users (sum of unique_conversations_count, by_user_stats). ${REFRESHED}`,
    labelNames: ['window'],
  },
  messagesToAgents: {
    name: 'mistral_lechat_messages_to_agents',
    help: `le Chat (Vibe Work) messages sent to agents in the window, all users (sum of messages_to_agents_count, by_user_stats). ${REFRESHED}`,
    labelNames: ['window'],
  },
  userMessages: {
    name: 'mistral_lechat_user_messages',
    help: `le Chat (Vibe Work) messages of one user in the window (by_user_stats); opt-in (LECHAT_USER_METRICS), capped by LECHAT_USER_LIMIT. ${REFRESHED}`,
    labelNames: ['user_id', 'window'],
  },
  userConversations: {
    name: 'mistral_lechat_user_conversations',
    help: `le Chat (Vibe Work) conversations of one user in the window (by_user_stats); opt-in, capped. ${REFRESHED}`,
    labelNames: ['user_id', 'window'],
  },
  userMessagesToAgents: {
    name: 'mistral_lechat_user_messages_to_agents',
    help: `le Chat (Vibe Work) messages of one user to agents in the window (by_user_stats); opt-in, capped. ${REFRESHED}`,
    labelNames: ['user_id', 'window'],
  },
  userLastMessage: {
    name: 'mistral_lechat_user_last_message_timestamp_seconds',
    help: `When the user last sent a le Chat (Vibe Work) message within the longest window (last_message_at, by_user_stats), absent while that window is not complete; opt-in, capped. Finds idle seats. ${REFRESHED}`,
    labelNames: ['user_id'],
  },
} as const satisfies Record<string, FamilyDef>;

const PER_USER_WINDOWED = ['userMessages', 'userConversations', 'userMessagesToAgents'] as const;

export interface UserStatsSnapshot {
  windows: Array<Windowed<UserRow>>;
  unreadable?: Unreadable;
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

type Summed = Exclude<keyof Counts, 'lastMessageAt'>;

function sum(rows: readonly Counts[], field: Summed): number;
function sum<R>(rows: readonly R[], pick: (r: R) => number): number;
function sum<R>(rows: readonly R[], f: Summed | ((r: R) => number)): number {
  const pick = typeof f === 'function' ? f : (r: R) => (r as unknown as Counts)[f];
  return rows.reduce((n, r) => n + pick(r), 0);
}

export function userStatsFamilies(s: UserStatsSnapshot, options: UserStatsOptions): MetricFamily[] {
  return runWhole(userStatsSteps(s, options));
}

/** `userStatsFamilies` in slices between which the event loop runs: the per-user series are ~100 000 at 12 000 users. */
export function userStatsFamiliesSliced(s: UserStatsSnapshot, options: UserStatsOptions): Promise<MetricFamily[]> {
  return runSliced(userStatsSteps(s, options));
}

function* userStatsSteps(s: UserStatsSnapshot, options: UserStatsOptions): Steps<MetricFamily[]> {
  const F = LECHAT_USER_FAMILIES;
  // Rule 5: a window whose answer does not show its last day loaded is not published.
  const complete = s.windows.filter(isComplete);
  const perWindow = (pick: (rows: UserRow[]) => number): Sample[] =>
    complete.map(({ window, rows }) => ({ labels: { window: window.label }, value: pick(rows) }));
  const families = [
    family(
      F.activeUsers,
      perWindow((rows) => rows.filter((r) => r.messages > 0).length),
    ),
    family(
      F.messages,
      perWindow((rows) => sum(rows, 'messages')),
    ),
    family(
      F.files,
      perWindow((rows) => sum(rows, 'files')),
    ),
    family(
      F.images,
      perWindow((rows) => sum(rows, 'images')),
    ),
    family(
      F.spreadsheets,
      perWindow((rows) => sum(rows, 'spreadsheets')),
    ),
    family(
      F.conversations,
      perWindow((rows) => sum(rows, 'conversations')),
    ),
    family(
      F.messagesToAgents,
      perWindow((rows) => sum(rows, (r: UserRow) => r.messagesToAgents)),
    ),
  ];
  if (!options.userMetrics) return families;

  yield;
  const { kept } = rankOnLongest(s.windows, userIdOf, options.userLimit);
  yield;
  const key = options.userIdHashKey?.reveal();
  const label = new Map<string, string>();
  for (const u of kept) {
    label.set(u, key === undefined ? u : pseudonymise(u, key));
    // An HMAC per user costs a few microseconds.
    if (key !== undefined && label.size % SLICE_ITEMS === 0) yield;
  }
  let work = 0;
  const values: Record<(typeof PER_USER_WINDOWED)[number], Sample[]> = {
    userMessages: [],
    userConversations: [],
    userMessagesToAgents: [],
  };
  for (const { window, rows } of complete) {
    const byUser = new Map(rows.map((r) => [r.userId, r]));
    yield;
    // The same users in every window: a kept user idle in a shorter window shows 0 there.
    for (const [userId, user_id] of label) {
      const r = byUser.get(userId);
      const labels = { user_id, window: window.label };
      values.userMessages.push({ labels, value: r?.messages ?? 0 });
      values.userConversations.push({ labels, value: r?.conversations ?? 0 });
      values.userMessagesToAgents.push({ labels, value: r?.messagesToAgents ?? 0 });
      if (++work % SLICE_ITEMS === 0) yield;
    }
  }
  yield;
  const lastMessage: Sample[] = [];
  // One sample per user: a user listed twice is read from one row, as the per-window series above read it.
  const last = s.windows[s.windows.length - 1];
  const longest = new Map((last !== undefined && isComplete(last) ? last.rows : []).map((r) => [r.userId, r]));
  for (const r of longest.values()) {
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
  const { dropped } = rankOnLongest(s.windows, userIdOf, options.userLimit);
  const F = LECHAT_USER_FAMILIES;
  const windows = s.windows.filter(isComplete);
  const last = s.windows[s.windows.length - 1];
  return {
    [F.userMessages.name]: dropped * windows.length,
    [F.userConversations.name]: dropped * windows.length,
    [F.userMessagesToAgents.name]: dropped * windows.length,
    [F.userLastMessage.name]: last !== undefined && isComplete(last) ? dropped : 0,
  };
}

/**
 * What `lechat_by_user` shares with the other readers (`ctx.peers`): who
 * wrote in le Chat and when, over its longest window, for the idle seats of
 * `users`. The user ids are the API's own (never the LECHAT_USER_ID_HASH_KEY
 * pseudonyms, which only ever change labels): `users` compares them with the
 * member ids GET users gives; the digest never leaves the process.
 */
export interface LechatActivity {
  /** The window's bounds, Unix seconds: [start, end), `days` complete UTC days. */
  start: number;
  end: number;
  days: number;
  /**
   * Whether every user of the window is known: the answer shows its last day
   * loaded (rule 5) and none of its rows was unreadable. When false, a user
   * missing here may have written: nobody can be called idle.
   */
  whole: boolean;
  /**
   * Users with a message in the window, by user_id: the latest message,
   * Unix seconds; undefined when the row gave no readable `last_message_at`.
   */
  lastMessage: ReadonlyMap<string, number | undefined>;
}

/** The digest of a by_user snapshot: its longest window (see LechatActivity). */
export function lechatActivity(s: UserStatsSnapshot): LechatActivity | undefined {
  const last = s.windows[s.windows.length - 1];
  if (last === undefined) return undefined;
  const unreadable = Object.values(s.unreadable ?? {}).reduce((n, u) => n + (u?.count ?? 0), 0);
  const lastMessage = new Map<string, number | undefined>();
  for (const r of last.rows) {
    if (r.messages <= 0 && r.lastMessageAt === undefined) continue;
    const at = r.lastMessageAt;
    if (!lastMessage.has(r.userId)) lastMessage.set(r.userId, at);
    else {
      // A user listed twice: the later message; an unknown instant stays unknown (it may be the later).
      const seen = lastMessage.get(r.userId);
      lastMessage.set(r.userId, seen === undefined || at === undefined ? undefined : Math.max(seen, at));
    }
  }
  return {
    start: last.end - last.window.days * DAY_S,
    end: last.end,
    days: last.window.days,
    whole: isComplete(last) && unreadable === 0,
    lastMessage,
  };
}

/** What `lechat_by_user` shared, read back by a peer: undefined when nothing usable was shared. */
export function sharedLechatActivity(shared: unknown): LechatActivity | undefined {
  const a = shared as LechatActivity | undefined;
  return a !== undefined && a.lastMessage instanceof Map ? a : undefined;
}

export const lechatByUser = defineEndpoint({
  id: 'lechat_by_user',
  describe: 'GET analytics le Chat by_user_stats',
  title: 'le Chat by_user_stats',
  paths: {
    brief: 'analytics/lechat/usage/by_user_stats',
    legacy: 'analytics/vibe/usage/by_user_stats',
    current: 'analytics/vibe/work/usage/by_user_stats',
  },
  intervalGroup: 'analytics',
  query: "`start_time`, `end_time`: the window's complete UTC days, one request per window",
  perWorkspace: false,
  families: Object.values(LECHAT_USER_FAMILIES),
  reader: ({ analytics }): Reader<UserStatsSnapshot> => {
    const options: UserStatsOptions = {
      windows: analytics.windows,
      userMetrics: analytics.userMetrics,
      userLimit: analytics.userLimit,
      userIdHashKey: analytics.userIdHashKey,
    };
    return {
      fetch: (ctx) => fetchDayWindows(ctx, USER_STATS, options.windows, parseUserStatsSliced),
      // The windows' rows, from the answers alone (the windows' days are in the queries).
      answersOnly: true,
      plannedQueries: (now) => dayWindowQueries(now, options.windows),
      toFamilies: (s) => userStatsFamilies(s, options),
      toFamiliesSliced: (s) => userStatsFamiliesSliced(s, options),
      completeUntil: lechatCompleteUntil,
      seriesDropped: (s) => userStatsDropped(s, options),
      unreadable: (s) => s.unreadable ?? {},
      share: lechatActivity,
    };
  },
});
