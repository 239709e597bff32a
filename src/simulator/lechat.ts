/**
 * le Chat analytics: by_user_stats, by_agent_stats, by_time_stats bodies,
 * and the window ground truth (aggregated separately, with plain maps and
 * string-keyed sets, so a bug in one aggregation does not hide in both).
 */
import { forEachChatHour } from './activity.js';
import { ORG_CREATED_SECONDS, type SimOrg } from './org.js';
import { bucketStart, isoSeconds, nextBucketStart, type Granularity } from './time.js';
import type { JsonObject } from './usage.js';

/** Room for a user's conversation key: (user, conversation) pairs pack into one safe integer. */
const CONVERSATION_SPACE = 2 ** 26;

export interface LeChatWindow {
  readonly startSeconds: number;
  readonly endSeconds: number;
  readonly nowSeconds: number;
}

export function lechatByUserBody(org: SimOrg, window: LeChatWindow): JsonObject {
  const data: JsonObject[] = [];
  let row: JsonObject | null = null;
  let userIndex = -1;
  let messages = 0,
    files = 0,
    images = 0,
    spreadsheets = 0,
    toAgents = 0,
    last = 0;
  const conversations = new Set<number>();
  const agents = new Set<number>();
  const flush = () => {
    if (!row) return;
    Object.assign(row, {
      messages_count: messages,
      files_count: files,
      images_count: images,
      spreadsheets_count: spreadsheets,
      unique_conversations_count: conversations.size,
      last_message_at: isoSeconds(last),
      unique_agents_count: agents.size,
      messages_to_agents_count: toAgents,
    });
    data.push(row);
  };
  forEachChatHour(org, window.startSeconds, window.endSeconds, window.nowSeconds, (hour) => {
    if (hour.user.index !== userIndex) {
      flush();
      userIndex = hour.user.index;
      row = { user_id: hour.user.id };
      messages = files = images = spreadsheets = toAgents = 0;
      conversations.clear();
      agents.clear();
    }
    messages += hour.messages;
    files += hour.files;
    images += hour.images;
    spreadsheets += hour.spreadsheets;
    conversations.add(hour.conversation);
    if (hour.agent >= 0) {
      agents.add(hour.agent);
      toAgents += hour.messages;
    }
    last = hour.instant; // visits are in time order within a user
  });
  flush();
  return { start_time: window.startSeconds, end_time: window.endSeconds, data };
}

export function lechatByAgentBody(org: SimOrg, window: LeChatWindow): JsonObject {
  const n = org.agentIds.length;
  const messages = new Float64Array(n);
  const files = new Float64Array(n);
  const images = new Float64Array(n);
  const spreadsheets = new Float64Array(n);
  const users = new Float64Array(n);
  const lastUser = new Int32Array(n).fill(-1);
  const last = new Float64Array(n);
  const conversations = Array.from({ length: n }, () => new Set<number>());
  forEachChatHour(org, window.startSeconds, window.endSeconds, window.nowSeconds, (hour) => {
    const a = hour.agent;
    if (a < 0) return;
    messages[a]! += hour.messages;
    files[a]! += hour.files;
    images[a]! += hour.images;
    spreadsheets[a]! += hour.spreadsheets;
    conversations[a]!.add(hour.user.index * CONVERSATION_SPACE + hour.conversation);
    if (lastUser[a] !== hour.user.index) {
      lastUser[a] = hour.user.index;
      users[a]! += 1;
    }
    if (hour.instant > last[a]!) last[a] = hour.instant;
  });
  const data: JsonObject[] = [];
  org.agentIds.forEach((agentId, a) => {
    if (messages[a] === 0) return;
    data.push({
      agent_id: agentId,
      messages_count: messages[a]!,
      files_count: files[a]!,
      images_count: images[a]!,
      spreadsheets_count: spreadsheets[a]!,
      unique_conversations_count: conversations[a]!.size,
      unique_users_count: users[a]!,
      last_message_at: isoSeconds(last[a]!),
    });
  });
  return { start_time: window.startSeconds, end_time: window.endSeconds, data };
}

/**
 * Bucket starts of the buckets overlapping [start, end) that have begun by
 * now, never before the organisation existed. A first bucket may start
 * before `start`; it counts only what happened inside the window.
 */
export function timeBuckets(window: LeChatWindow, granularity: Granularity): number[] {
  const from = Math.max(window.startSeconds, ORG_CREATED_SECONDS);
  const starts: number[] = [];
  for (let b = bucketStart(from, granularity); b < window.endSeconds && b <= window.nowSeconds; b = nextBucketStart(b, granularity)) {
    starts.push(b);
  }
  return starts;
}

function bucketIndexOf(starts: readonly number[], instant: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid]! <= instant) low = mid;
    else high = mid - 1;
  }
  return low;
}

export function lechatByTimeBody(org: SimOrg, window: LeChatWindow, granularity: Granularity): JsonObject {
  const starts = window.startSeconds < window.endSeconds ? timeBuckets(window, granularity) : [];
  const n = starts.length;
  const messages = new Float64Array(n);
  const files = new Float64Array(n);
  const images = new Float64Array(n);
  const spreadsheets = new Float64Array(n);
  const toAgents = new Float64Array(n);
  const users = new Float64Array(n);
  const lastUser = new Int32Array(n).fill(-1);
  const conversations = Array.from({ length: n }, () => new Set<number>());
  const agents = Array.from({ length: n }, () => new Set<number>());
  if (n > 0) {
    forEachChatHour(org, window.startSeconds, window.endSeconds, window.nowSeconds, (hour) => {
      const b = bucketIndexOf(starts, hour.instant);
      messages[b]! += hour.messages;
      files[b]! += hour.files;
      images[b]! += hour.images;
      spreadsheets[b]! += hour.spreadsheets;
      conversations[b]!.add(hour.user.index * CONVERSATION_SPACE + hour.conversation);
      if (hour.agent >= 0) {
        toAgents[b]! += hour.messages;
        agents[b]!.add(hour.agent);
      }
      if (lastUser[b] !== hour.user.index) {
        lastUser[b] = hour.user.index;
        users[b]! += 1;
      }
    });
  }
  const data = starts.map(
    (start, b): JsonObject => ({
      time_bucket: isoSeconds(start),
      messages_count: messages[b]!,
      files_count: files[b]!,
      images_count: images[b]!,
      spreadsheets_count: spreadsheets[b]!,
      unique_conversations_count: conversations[b]!.size,
      unique_users_count: users[b]!,
      messages_to_agents_count: toAgents[b]!,
      unique_agents_count: agents[b]!.size,
    }),
  );
  return { start_time: window.startSeconds, end_time: window.endSeconds, data };
}

/* ----------------------------------------------------------------- truth */

export interface LeChatCounts {
  readonly messages: number;
  readonly files: number;
  readonly images: number;
  readonly spreadsheets: number;
  /** Distinct conversations (a conversation belongs to one user). */
  readonly conversations: number;
  /** Unix seconds of the last message in the window. */
  readonly lastMessageAt: number;
}

export interface LeChatUserTruth extends LeChatCounts {
  readonly agents: number;
  readonly messagesToAgents: number;
}

export interface LeChatAgentTruth extends LeChatCounts {
  readonly users: number;
}

/** le Chat activity in [start, end) (instants after "now" excluded). */
export interface LeChatWindowTruth {
  readonly startSeconds: number;
  readonly endSeconds: number;
  readonly messages: number;
  readonly files: number;
  readonly images: number;
  readonly spreadsheets: number;
  readonly messagesToAgents: number;
  readonly conversations: number;
  /** Users with at least one message in the window. */
  readonly activeUsers: number;
  /** Agents with at least one message in the window. */
  readonly activeAgents: number;
  /** By user id; only active users. */
  readonly byUser: ReadonlyMap<string, LeChatUserTruth>;
  /** By agent id; only agents with messages. */
  readonly byAgent: ReadonlyMap<string, LeChatAgentTruth>;
}

interface MutableCounts {
  messages: number;
  files: number;
  images: number;
  spreadsheets: number;
  conversations: Set<string>;
  lastMessageAt: number;
}

const emptyCounts = (): MutableCounts => ({
  messages: 0,
  files: 0,
  images: 0,
  spreadsheets: 0,
  conversations: new Set(),
  lastMessageAt: 0,
});

export function lechatWindowTruth(org: SimOrg, window: LeChatWindow): LeChatWindowTruth {
  const users = new Map<string, MutableCounts & { agents: Set<string>; messagesToAgents: number }>();
  const agents = new Map<string, MutableCounts & { users: Set<string> }>();
  const add = (
    counts: MutableCounts,
    messages: number,
    files: number,
    images: number,
    sheets: number,
    conversation: string,
    at: number,
  ) => {
    counts.messages += messages;
    counts.files += files;
    counts.images += images;
    counts.spreadsheets += sheets;
    counts.conversations.add(conversation);
    counts.lastMessageAt = Math.max(counts.lastMessageAt, at);
  };
  forEachChatHour(org, window.startSeconds, window.endSeconds, window.nowSeconds, (hour) => {
    const userId = hour.user.id;
    const conversation = `${userId}/${hour.conversation}`;
    let user = users.get(userId);
    if (!user) users.set(userId, (user = { ...emptyCounts(), agents: new Set(), messagesToAgents: 0 }));
    add(user, hour.messages, hour.files, hour.images, hour.spreadsheets, conversation, hour.instant);
    if (hour.agent < 0) return;
    const agentId = org.agentIds[hour.agent]!;
    user.agents.add(agentId);
    user.messagesToAgents += hour.messages;
    let agent = agents.get(agentId);
    if (!agent) agents.set(agentId, (agent = { ...emptyCounts(), users: new Set() }));
    add(agent, hour.messages, hour.files, hour.images, hour.spreadsheets, conversation, hour.instant);
    agent.users.add(userId);
  });
  const frozen = (c: MutableCounts): LeChatCounts => ({
    messages: c.messages,
    files: c.files,
    images: c.images,
    spreadsheets: c.spreadsheets,
    conversations: c.conversations.size,
    lastMessageAt: c.lastMessageAt,
  });
  const byUser = new Map([...users].map(([id, u]) => [id, { ...frozen(u), agents: u.agents.size, messagesToAgents: u.messagesToAgents }]));
  const byAgent = new Map([...agents].map(([id, a]) => [id, { ...frozen(a), users: a.users.size }]));
  const sum = (pick: (u: LeChatUserTruth) => number) => [...byUser.values()].reduce((total, u) => total + pick(u), 0);
  return {
    startSeconds: window.startSeconds,
    endSeconds: window.endSeconds,
    messages: sum((u) => u.messages),
    files: sum((u) => u.files),
    images: sum((u) => u.images),
    spreadsheets: sum((u) => u.spreadsheets),
    messagesToAgents: sum((u) => u.messagesToAgents),
    conversations: sum((u) => u.conversations),
    activeUsers: byUser.size,
    activeAgents: byAgent.size,
    byUser,
    byAgent,
  };
}
