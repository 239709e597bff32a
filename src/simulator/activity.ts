/**
 * Hour-by-hour activity of every user, as pure functions of (seed, user, hour).
 *
 * Each active hour's events all happen at one deterministic instant inside
 * the hour; an hour counts in a window [start, end) when that instant is in
 * it and is not in the future. Any window therefore has one exact answer,
 * and the served bodies and the ground truth both aggregate these streams.
 *
 * Visitors receive a reused object: copy what you keep.
 */
import { VIBE_MODELS } from './catalog.js';
import { ORG_CREATED_SECONDS, type SimOrg, type SimUser } from './org.js';
import { hash4, rehash, tag, unit } from './prng.js';
import { DAY_SECONDS, HOUR_SECONDS, dayIndexOf, isWeekend, weekIndexOf } from './time.js';

const TAG_CHAT_WEEK = tag('chat-week');
const TAG_CHAT_DAY = tag('chat-day');
const TAG_CHAT_HOUR = tag('chat-hour');
const TAG_VIBE_WEEK = tag('vibe-week');
const TAG_VIBE_DAY = tag('vibe-day');
const TAG_VIBE_HOUR = tag('vibe-hour');
const TAG_EDIT_DAY = tag('next-edit-day');
const TAG_EDIT_HOUR = tag('next-edit-hour');

/** Probability that a user on an active day is active in each local hour. */
const CHAT_HOUR_SHAPE = [
  0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.03, 0.08, 0.25, 0.55, 0.65, 0.6, 0.35, 0.4, 0.6, 0.65, 0.55, 0.4, 0.2, 0.12, 0.1, 0.08, 0.05, 0.02,
];
const CODING_HOUR_SHAPE = [
  0.02, 0.01, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.2, 0.45, 0.6, 0.6, 0.3, 0.45, 0.65, 0.7, 0.65, 0.5, 0.3, 0.2, 0.18, 0.15, 0.08, 0.04,
];
const WEEKEND_FACTOR = 0.12;

/** The part of [start, end) that can hold activity: after creation, not after now. */
interface ActiveRange {
  readonly from: number;
  /** Exclusive. */
  readonly to: number;
  readonly firstDay: number;
  readonly lastDay: number;
}

function activeRange(startSeconds: number, endSeconds: number, nowSeconds: number): ActiveRange | null {
  const from = Math.max(startSeconds, ORG_CREATED_SECONDS);
  const to = Math.min(endSeconds, nowSeconds + 1);
  if (from >= to) return null;
  return { from, to, firstDay: dayIndexOf(from), lastDay: dayIndexOf(to - 1) };
}

/** Visits each hour of `day` that overlaps the range, calling `visit(hourIndex, hourOfDay)`. */
function forEachHourOfDay(range: ActiveRange, day: number, visit: (hourIndex: number, hourOfDay: number) => void): void {
  const dayStart = day * DAY_SECONDS;
  const firstHour = day === range.firstDay ? Math.floor((range.from - dayStart) / HOUR_SECONDS) : 0;
  const lastHour = day === range.lastDay ? Math.floor((range.to - 1 - dayStart) / HOUR_SECONDS) : 23;
  for (let hourOfDay = firstHour; hourOfDay <= lastHour; hourOfDay++) visit(day * 24 + hourOfDay, hourOfDay);
}

function localHour(hourOfDay: number, shift: number): number {
  return (hourOfDay + shift + 24) % 24;
}

/* ------------------------------------------------------------------ le Chat */

export interface ChatHour {
  user: SimUser;
  /** Unix seconds at which this hour's messages happen. */
  instant: number;
  messages: number;
  files: number;
  images: number;
  spreadsheets: number;
  /** Index into `org.agentIds`, or -1 when the messages went to no agent. */
  agent: number;
  /** Identifies the conversation; unique per user (not across users). */
  conversation: number;
}

export function chatDayActive(org: SimOrg, user: SimUser, day: number): boolean {
  if (user.chatDayProbability === 0) return false;
  if (unit(hash4(org.seed, TAG_CHAT_WEEK, user.index, weekIndexOf(day))) >= user.chatWeekProbability) return false;
  const probability = user.chatDayProbability * (isWeekend(day) ? WEEKEND_FACTOR : 1);
  return unit(hash4(org.seed, TAG_CHAT_DAY, user.index, day)) < probability;
}

/** Visits every active le Chat user-hour whose instant is in [start, end) and ≤ now, user by user, in time order. */
export function forEachChatHour(
  org: SimOrg,
  startSeconds: number,
  endSeconds: number,
  nowSeconds: number,
  visit: (hour: Readonly<ChatHour>) => void,
): void {
  const range = activeRange(startSeconds, endSeconds, nowSeconds);
  if (!range) return;
  const event: ChatHour = {
    user: org.users[0]!,
    instant: 0,
    messages: 0,
    files: 0,
    images: 0,
    spreadsheets: 0,
    agent: -1,
    conversation: 0,
  };
  for (const user of org.users) {
    if (user.chatDayProbability === 0) continue;
    event.user = user;
    for (let day = range.firstDay; day <= range.lastDay; day++) {
      if (!chatDayActive(org, user, day)) continue;
      forEachHourOfDay(range, day, (hourIndex, hourOfDay) => {
        const h = hash4(org.seed, TAG_CHAT_HOUR, user.index, hourIndex);
        if (unit(h) >= CHAT_HOUR_SHAPE[localHour(hourOfDay, user.hourShift)]!) return;
        const instant = hourIndex * HOUR_SECONDS + (rehash(h, 1) % HOUR_SECONDS);
        if (instant < range.from || instant >= range.to) return;
        const messages = 1 + Math.floor(unit(rehash(h, 2)) * 2 * user.intensity);
        event.instant = instant;
        event.messages = messages;
        event.files = Math.floor(messages * unit(rehash(h, 3)) * 0.6);
        event.images = Math.floor(messages * unit(rehash(h, 4)) * 0.35);
        event.spreadsheets = Math.floor(messages * unit(rehash(h, 5)) * 0.2);
        const pick = rehash(h, 7);
        if (unit(rehash(h, 6)) < user.agentAffinity) {
          const slot = pick % 3;
          event.agent = user.favouriteAgents[slot as 0 | 1 | 2];
          event.conversation = day * 128 + 100 + slot;
        } else {
          event.agent = -1;
          event.conversation = day * 128 + (pick % user.conversationsPerDay);
        }
        visit(event);
      });
    }
  }
}

/* ---------------------------------------------------------------- Vibe Code */

/** Tool call outcome codes packed as tool * 16 + status * 4 + approval. */
export const TOOL_STATUS = ['success', 'failure', 'skipped'] as const;
export const TOOL_APPROVAL = ['ask', 'always', 'never'] as const;
/** `client` value of sessions started from a client the API does not name. */
export const UNNAMED_CLIENT = 3;
const MAX_CALLS_PER_HOUR = 64;

export interface VibeHour {
  user: SimUser;
  day: number;
  instant: number;
  /** Index into VIBE_CLIENTS, or UNNAMED_CLIENT. */
  client: number;
  sessions: number;
  prompts: number;
  /** Session time in tenths of an hour. */
  durationTenths: number;
  /** Index into VIBE_MODELS. */
  model: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  toolCalls: number;
  /** The first `toolCalls` entries are the calls, packed as tool * 16 + status * 4 + approval. */
  readonly callCodes: Int32Array;
}

function vibeDayActive(org: SimOrg, user: SimUser, day: number): boolean {
  const profile = user.vibe;
  if (!profile) return false;
  if (unit(hash4(org.seed, TAG_VIBE_WEEK, user.index, weekIndexOf(day))) >= profile.weekProbability) return false;
  const probability = profile.dayProbability * (isWeekend(day) ? WEEKEND_FACTOR : 1);
  return unit(hash4(org.seed, TAG_VIBE_DAY, user.index, day)) < probability;
}

function drawTool(weights: readonly number[], total: number, draw: number): number {
  let target = draw * total;
  for (let i = 0; i < weights.length; i++) {
    target -= weights[i]!;
    if (target < 0) return i;
  }
  return weights.length - 1;
}

/** Visits every active Vibe Code user-hour in [start, end) and ≤ now, for users passing `includeUser`. */
export function forEachVibeHour(
  org: SimOrg,
  startSeconds: number,
  endSeconds: number,
  nowSeconds: number,
  includeUser: (user: SimUser) => boolean,
  visit: (hour: Readonly<VibeHour>) => void,
): void {
  const range = activeRange(startSeconds, endSeconds, nowSeconds);
  if (!range) return;
  const toolTotal = org.toolWeights.reduce((a, b) => a + b, 0);
  const event: VibeHour = {
    user: org.users[0]!,
    day: 0,
    instant: 0,
    client: 0,
    sessions: 0,
    prompts: 0,
    durationTenths: 0,
    model: 0,
    inputTokens: 0,
    outputTokens: 0,
    cachedTokens: 0,
    toolCalls: 0,
    callCodes: new Int32Array(MAX_CALLS_PER_HOUR),
  };
  for (const user of org.users) {
    const profile = user.vibe;
    if (!profile || !includeUser(user)) continue;
    event.user = user;
    for (let day = range.firstDay; day <= range.lastDay; day++) {
      if (!vibeDayActive(org, user, day)) continue;
      event.day = day;
      forEachHourOfDay(range, day, (hourIndex, hourOfDay) => {
        const h = hash4(org.seed, TAG_VIBE_HOUR, user.index, hourIndex);
        if (unit(h) >= CODING_HOUR_SHAPE[localHour(hourOfDay, user.hourShift)]!) return;
        const instant = hourIndex * HOUR_SECONDS + (rehash(h, 1) % HOUR_SECONDS);
        if (instant < range.from || instant >= range.to) return;
        event.instant = instant;
        const clientDraw = unit(rehash(h, 2));
        event.client =
          clientDraw < 0.03
            ? UNNAMED_CLIENT
            : clientDraw < 0.93
              ? profile.primaryClient
              : (profile.primaryClient + 1 + (rehash(h, 3) % 2)) % 3;
        const sessionDraw = unit(rehash(h, 4));
        event.sessions = sessionDraw < 0.45 ? 1 : sessionDraw < 0.55 ? 2 : 0;
        event.prompts = 1 + Math.floor(unit(rehash(h, 5)) * 8);
        event.durationTenths = 1 + (rehash(h, 6) % 10);
        event.model = unit(rehash(h, 7)) < 0.85 ? profile.preferredModel : rehash(h, 8) % VIBE_MODELS.length;
        event.inputTokens = event.prompts * (3000 + (rehash(h, 9) % 25_000));
        event.outputTokens = Math.floor(event.inputTokens * (0.05 + 0.1 * unit(rehash(h, 10))));
        event.cachedTokens = Math.floor(event.inputTokens * (0.3 + 0.5 * unit(rehash(h, 11))));
        const calls = Math.min(MAX_CALLS_PER_HOUR, Math.floor(event.prompts * unit(rehash(h, 12)) * 5));
        for (let c = 0; c < calls; c++) {
          const callHash = rehash(h, 100 + c);
          const tool = drawTool(org.toolWeights, toolTotal, unit(callHash));
          const statusDraw = unit(rehash(callHash, 1));
          const status = statusDraw < 0.85 ? 0 : statusDraw < 0.94 ? 1 : 2;
          const approvalDraw = unit(rehash(callHash, 2));
          const approval = approvalDraw < 0.2 ? 0 : approvalDraw < 0.9 ? 1 : 2;
          event.callCodes[c] = tool * 16 + status * 4 + approval;
        }
        event.toolCalls = calls;
        visit(event);
      });
    }
  }
}

/* ---------------------------------------------------- Vibe next-edit (IDE) */

export interface NextEditHour {
  user: SimUser;
  day: number;
  instant: number;
  suggestions: number;
  accepted: number;
  rejected: number;
  timeout: number;
  aborted: number;
  dismissed: number;
  forced: number;
  widget: number;
  linesInserted: number;
  linesDeleted: number;
  linesUnchanged: number;
}

/** Visits every active next-edit user-hour in [start, end) and ≤ now (org-wide). */
export function forEachNextEditHour(
  org: SimOrg,
  startSeconds: number,
  endSeconds: number,
  nowSeconds: number,
  visit: (hour: Readonly<NextEditHour>) => void,
): void {
  const range = activeRange(startSeconds, endSeconds, nowSeconds);
  if (!range) return;
  const event: NextEditHour = {
    user: org.users[0]!,
    day: 0,
    instant: 0,
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
  for (const user of org.users) {
    const profile = user.nextEdit;
    if (!profile) continue;
    event.user = user;
    for (let day = range.firstDay; day <= range.lastDay; day++) {
      const probability = profile.dayProbability * (isWeekend(day) ? WEEKEND_FACTOR : 1);
      if (unit(hash4(org.seed, TAG_EDIT_DAY, user.index, day)) >= probability) continue;
      event.day = day;
      forEachHourOfDay(range, day, (hourIndex, hourOfDay) => {
        const h = hash4(org.seed, TAG_EDIT_HOUR, user.index, hourIndex);
        if (unit(h) >= CODING_HOUR_SHAPE[localHour(hourOfDay, user.hourShift)]!) return;
        const instant = hourIndex * HOUR_SECONDS + (rehash(h, 1) % HOUR_SECONDS);
        if (instant < range.from || instant >= range.to) return;
        const n = 3 + Math.floor(unit(rehash(h, 2)) * 40);
        const accepted = Math.floor(n * (0.35 + 0.3 * unit(rehash(h, 3))));
        let rest = n - accepted;
        const rejected = Math.floor(rest * (0.4 + 0.3 * unit(rehash(h, 4))));
        rest -= rejected;
        const timeout = Math.floor(rest * 0.5 * unit(rehash(h, 5)));
        rest -= timeout;
        const aborted = Math.floor(rest * 0.6 * unit(rehash(h, 6)));
        event.instant = instant;
        event.suggestions = n;
        event.accepted = accepted;
        event.rejected = rejected;
        event.timeout = timeout;
        event.aborted = aborted;
        event.dismissed = rest - aborted;
        event.forced = Math.floor(n * 0.25 * unit(rehash(h, 7)));
        event.widget = Math.floor(n * (0.2 + 0.4 * unit(rehash(h, 8))));
        event.linesInserted = accepted * (1 + (rehash(h, 9) % 5));
        event.linesDeleted = Math.floor(accepted * 3 * unit(rehash(h, 10)));
        event.linesUnchanged = accepted * (2 + (rehash(h, 11) % 15));
        visit(event);
      });
    }
  }
}
