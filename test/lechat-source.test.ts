import { describe, expect, it } from 'vitest';
import type { AnalyticsWindow } from '../src/config/settings.js';
import { Secret } from '../src/secret.js';
import { agentStatsDropped, agentStatsFamilies, parseAgentStats } from '../src/sources/lechat-by-agent.js';
import { lechatByTime, parseDailyActiveUsers } from '../src/sources/lechat-by-time.js';
import {
  lechatByUser,
  parseUserStats,
  pseudonymise,
  userStatsDropped,
  userStatsFamilies,
  type UserStatsOptions,
} from '../src/sources/lechat-by-user.js';
import { readData, readDataSteps } from '../src/sources/lechat-rows.js';
import { ParseError } from '../src/sources/types.js';
import { UnreadableTally } from '../src/sources/unreadable.js';
import { runSliced, SLICE_ITEMS } from '../src/slices.js';
import { flat } from './support/families.js';
import { readerOptions, recordingContext } from './support/readers.js';

const DAY = 86_400_000;
const W1: AnalyticsWindow = { label: '1d', ms: DAY, days: 1 };
const W7: AnalyticsWindow = { label: '7d', ms: 7 * DAY, days: 7 };
const NOW = Date.UTC(2026, 10, 15, 12, 0, 0);
/** Today's UTC midnight at NOW: the end of every window asked. */
const END = Date.UTC(2026, 10, 15) / 1000;

/** A window's answer whose data is complete: loaded through its last day. */
const complete = <R>(window: AnalyticsWindow, rows: R[]) => ({ window, rows, end: END, completeUntil: END });

/** A by_user_stats row; `messages` may be a numeric string, as the API may send. */
const user = (user_id: string, messages: number | string, extra: Record<string, unknown> = {}) => ({
  user_id,
  messages_count: messages,
  files_count: 1,
  images_count: 2,
  spreadsheets_count: 0,
  unique_conversations_count: Math.ceil(Number(messages) / 3),
  unique_agents_count: 1,
  messages_to_agents_count: Math.floor(Number(messages) / 2),
  last_message_at: '2026-11-15T09:30:00Z',
  ...extra,
});

/** by_user_stats for 1d (two users) and 7d (four users: the 1d ones and two more). */
const USER_STATS = [
  complete(W1, parseUserStats({ start_time: 0, end_time: 0, data: [user('u-a', 10), user('u-b', 4)] })),
  complete(
    W7,
    parseUserStats({
      start_time: 0,
      end_time: 0,
      data: [user('u-a', 30), user('u-b', 40), user('u-c', 30, { last_message_at: '2026-11-10T08:00:00Z' }), user('u-d', '2')],
    }),
  ),
];

const userOptions = (o: Partial<UserStatsOptions> = {}): UserStatsOptions => ({
  windows: [W1, W7],
  userMetrics: false,
  userLimit: 10_000,
  userIdHashKey: undefined,
  ...o,
});

describe('le Chat by user', () => {
  it('totals each window over its rows', () => {
    const m = flat(userStatsFamilies({ windows: USER_STATS }, userOptions()));
    expect(m['mistral_lechat_active_users{window="1d"}']).toBe(2);
    expect(m['mistral_lechat_active_users{window="7d"}']).toBe(4);
    expect(m['mistral_lechat_messages{window="1d"}']).toBe(14);
    expect(m['mistral_lechat_messages{window="7d"}']).toBe(102);
    expect(m['mistral_lechat_files{window="7d"}']).toBe(4);
    expect(m['mistral_lechat_images{window="7d"}']).toBe(8);
    expect(m['mistral_lechat_spreadsheets{window="7d"}']).toBe(0);
    expect(m['mistral_lechat_conversations{window="1d"}']).toBe(4 + 2);
    expect(m['mistral_lechat_messages_to_agents{window="7d"}']).toBe(15 + 20 + 15 + 1);
  });

  it('has no per-user series unless asked for', () => {
    const m = flat(userStatsFamilies({ windows: USER_STATS }, userOptions()));
    expect(Object.keys(m).some((k) => k.includes('user_id'))).toBe(false);
    expect(userStatsDropped({ windows: USER_STATS }, userOptions())).toEqual({});
  });

  it('keeps the most active users of the longest window, the same in every window, and counts the rest', () => {
    const options = userOptions({ userMetrics: true, userLimit: 2 });
    const m = flat(userStatsFamilies({ windows: USER_STATS }, options));
    // 7d ranking: u-b 40, then u-a and u-c tied at 30: the tie goes to the smaller id.
    expect(
      Object.keys(m)
        .filter((k) => k.startsWith('mistral_lechat_user_messages{'))
        .sort(),
    ).toEqual([
      'mistral_lechat_user_messages{user_id="u-a",window="1d"}',
      'mistral_lechat_user_messages{user_id="u-a",window="7d"}',
      'mistral_lechat_user_messages{user_id="u-b",window="1d"}',
      'mistral_lechat_user_messages{user_id="u-b",window="7d"}',
    ]);
    expect(m['mistral_lechat_user_messages{user_id="u-b",window="1d"}']).toBe(4);
    expect(m['mistral_lechat_user_conversations{user_id="u-b",window="7d"}']).toBe(14);
    expect(m['mistral_lechat_user_messages_to_agents{user_id="u-a",window="7d"}']).toBe(15);
    expect(m['mistral_lechat_user_last_message_timestamp_seconds{user_id="u-a"}']).toBe(Date.UTC(2026, 10, 15, 9, 30) / 1000);
    expect(userStatsDropped({ windows: USER_STATS }, options)).toEqual({
      mistral_lechat_user_messages: 4,
      mistral_lechat_user_conversations: 4,
      mistral_lechat_user_messages_to_agents: 4,
      mistral_lechat_user_last_message_timestamp_seconds: 2,
    });
  });

  it('shows 0 for a kept user idle in a shorter window', () => {
    const m = flat(userStatsFamilies({ windows: USER_STATS }, userOptions({ userMetrics: true })));
    expect(m['mistral_lechat_user_messages{user_id="u-c",window="1d"}']).toBe(0);
    expect(m['mistral_lechat_user_last_message_timestamp_seconds{user_id="u-c"}']).toBe(Date.UTC(2026, 10, 10, 8) / 1000);
  });

  it('a user listed twice has one series per window, not two samples of one label set', () => {
    const rows = parseUserStats({
      start_time: 0,
      end_time: 0,
      data: [user('u-a', 3, { last_message_at: '2026-11-15T08:00:00Z' }), user('u-a', 5, { last_message_at: '2026-11-15T09:00:00Z' })],
    });
    const families = userStatsFamilies({ windows: [complete(W1, rows)] }, userOptions({ windows: [W1], userMetrics: true }));
    for (const f of families.filter((f) => f.name.startsWith('mistral_lechat_user_'))) expect(f.samples, f.name).toHaveLength(1);
    const m = flat(families);
    expect(m['mistral_lechat_user_messages{user_id="u-a",window="1d"}']).toBe(5);
    expect(m['mistral_lechat_user_last_message_timestamp_seconds{user_id="u-a"}']).toBe(Date.UTC(2026, 10, 15, 9) / 1000);
  });

  it('replaces user ids by a keyed hash, stable for one key and different across keys', () => {
    const a = flat(userStatsFamilies({ windows: USER_STATS }, userOptions({ userMetrics: true, userIdHashKey: new Secret('key-one') })));
    const again = flat(
      userStatsFamilies({ windows: USER_STATS }, userOptions({ userMetrics: true, userIdHashKey: new Secret('key-one') })),
    );
    const b = flat(userStatsFamilies({ windows: USER_STATS }, userOptions({ userMetrics: true, userIdHashKey: new Secret('key-two') })));
    expect(Object.keys(a).some((k) => k.includes('u-a'))).toBe(false);
    const hashed = pseudonymise('u-a', 'key-one');
    expect(hashed).toMatch(/^[0-9a-f]{16}$/);
    expect(a[`mistral_lechat_user_messages{user_id="${hashed}",window="7d"}`]).toBe(30);
    expect(again).toEqual(a);
    expect(pseudonymise('u-a', 'key-two')).not.toBe(hashed);
    expect(b[`mistral_lechat_user_messages{user_id="${pseudonymise('u-a', 'key-two')}",window="7d"}`]).toBe(30);
  });

  it('asks for the last N complete UTC days in Unix seconds, once per window: 1d is yesterday', async () => {
    const { ctx, queries } = recordingContext(NOW + 999, (query) => ({ ...query, data: [] }));
    await lechatByUser.reader(readerOptions({ analytics: { windows: [W1, W7] } })).fetch(ctx);
    expect(queries).toEqual([
      { start_time: END - 86_400, end_time: END },
      { start_time: END - 7 * 86_400, end_time: END },
    ]);
  });

  it('asks for one window at a time: a window is asked only once the answer before it is read', async () => {
    const answered: Array<() => void> = [];
    const { ctx, queries } = recordingContext(
      NOW,
      (query) => new Promise((resolve) => answered.push(() => resolve({ ...query, data: [] }))),
    );
    const W30: AnalyticsWindow = { label: '30d', ms: 30 * DAY, days: 30 };
    const fetching = lechatByUser.reader(readerOptions({ analytics: { windows: [W1, W7, W30] } })).fetch(ctx);
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    for (let asked = 1; asked <= 3; asked++) {
      await settle();
      expect(queries).toHaveLength(asked);
      answered[asked - 1]?.();
    }
    expect((await fetching).windows.map((w) => w.window.label)).toEqual(['1d', '7d', '30d']);
  });

  it('publishes a window only when its answer shows its last day loaded (a message on it), never a not-loaded day as 0', async () => {
    // The 1d answer (yesterday, 11-14) holds no message: the API has not loaded it, or nobody wrote; the 7d one ends on 11-13.
    const answers: Record<number, unknown> = {
      [END - 86_400]: { data: [] },
      [END - 7 * 86_400]: { data: [user('u-a', 30, { last_message_at: '2026-11-13T22:00:00Z' })] },
    };
    const { ctx } = recordingContext(NOW, (query) => ({ ...query, ...(answers[Number(query?.start_time)] as object) }));
    const reader = lechatByUser.reader(readerOptions({ analytics: { windows: [W1, W7], userMetrics: true } }));
    const snap = await reader.fetch(ctx);
    expect(flat(reader.toFamilies(snap))).toEqual({});
    expect(reader.completeUntil?.(snap)).toBe(END - 86_400);
    expect(reader.seriesDropped?.(snap)).toEqual({
      mistral_lechat_user_messages: 0,
      mistral_lechat_user_conversations: 0,
      mistral_lechat_user_messages_to_agents: 0,
      mistral_lechat_user_last_message_timestamp_seconds: 0,
    });
    // A message on 11-14 in the 7d answer only: 7d is complete and published, 1d is not.
    answers[END - 7 * 86_400] = { data: [user('u-a', 30, { last_message_at: '2026-11-14T00:00:00Z' })] };
    const later = await reader.fetch(ctx);
    const m = flat(reader.toFamilies(later));
    expect(m['mistral_lechat_messages{window="7d"}']).toBe(30);
    expect(m['mistral_lechat_user_last_message_timestamp_seconds{user_id="u-a"}']).toBe(END - 86_400);
    expect(Object.keys(m).filter((k) => k.includes('window="1d"'))).toEqual([]);
    expect(reader.completeUntil?.(later)).toBe(END);
  });

  it.each<[string, unknown, RegExp]>([
    ['no data array', { start_time: 1 }, /lechat by_user_stats: the answer has no data array/],
    ['a row without user_id', { data: [{ messages_count: 1 }] }, /data\[0\]\.user_id: missing/],
    ['a non-numeric count', { data: [{ user_id: 'x', messages_count: 'many' }] }, /data\[0\]\.messages_count: expected a number/],
  ])('rejects %s with a ParseError', (_n, body, message) => {
    expect(() => parseUserStats(body)).toThrow(ParseError);
    expect(() => parseUserStats(body)).toThrow(message);
  });
});

describe('le Chat by agent', () => {
  const agent = (agent_id: string, messages: number, users: number) => ({
    agent_id,
    messages_count: messages,
    files_count: 0,
    images_count: 0,
    spreadsheets_count: 0,
    unique_conversations_count: messages - 1,
    unique_users_count: users,
    last_message_at: '2026-11-15T00:00:00Z',
  });
  const windows = [
    complete(W1, parseAgentStats({ data: [agent('ag-1', 5, 2), agent('ag-3', 50, 9)] })),
    complete(W7, parseAgentStats({ data: [agent('ag-1', 20, 4), agent('ag-2', 30, 5), agent('ag-3', 60, 10)] })),
  ];

  it('keeps the busiest agents of the longest window in every window, and counts the rest', () => {
    const options = { windows: [W1, W7], agentLimit: 2 };
    const m = flat(agentStatsFamilies({ windows }, options));
    expect(m).toEqual({
      'mistral_lechat_agent_messages{agent_id="ag-3",window="1d"}': 50,
      'mistral_lechat_agent_messages{agent_id="ag-2",window="1d"}': 0,
      'mistral_lechat_agent_messages{agent_id="ag-3",window="7d"}': 60,
      'mistral_lechat_agent_messages{agent_id="ag-2",window="7d"}': 30,
      'mistral_lechat_agent_users{agent_id="ag-3",window="1d"}': 9,
      'mistral_lechat_agent_users{agent_id="ag-2",window="1d"}': 0,
      'mistral_lechat_agent_users{agent_id="ag-3",window="7d"}': 10,
      'mistral_lechat_agent_users{agent_id="ag-2",window="7d"}': 5,
      'mistral_lechat_agent_conversations{agent_id="ag-3",window="1d"}': 49,
      'mistral_lechat_agent_conversations{agent_id="ag-2",window="1d"}': 0,
      'mistral_lechat_agent_conversations{agent_id="ag-3",window="7d"}': 59,
      'mistral_lechat_agent_conversations{agent_id="ag-2",window="7d"}': 29,
    });
    expect(agentStatsDropped({ windows }, options)).toEqual({
      mistral_lechat_agent_messages: 2,
      mistral_lechat_agent_users: 2,
      mistral_lechat_agent_conversations: 2,
    });
  });

  it('drops nothing under the cap', () => {
    expect(agentStatsDropped({ windows }, { windows: [W1, W7], agentLimit: 100 })).toEqual({
      mistral_lechat_agent_messages: 0,
      mistral_lechat_agent_users: 0,
      mistral_lechat_agent_conversations: 0,
    });
  });
});

describe('le Chat by time', () => {
  it('reads the last complete day from day buckets; a day the API has no row for is unknown (undefined), never 0', () => {
    const body = {
      data: [
        { time_bucket: '2026-11-13T00:00:00Z', unique_users_count: 7, messages_count: 1 },
        { time_bucket: '2026-11-14T00:00:00Z', unique_users_count: '12', messages_count: 1 },
      ],
    };
    expect(parseDailyActiveUsers(body, '2026-11-14')).toBe(12);
    expect(parseDailyActiveUsers(body, '2026-11-15')).toBeUndefined();
    expect(parseDailyActiveUsers({ data: [{ time_bucket: '2026-11-14T00:00:00Z', unique_users_count: 0 }] }, '2026-11-14')).toBe(0);
  });

  it("asks for the longest window's complete days with day granularity, and rolls over at UTC midnight", async () => {
    const reader = lechatByTime.reader(readerOptions({ analytics: { windows: [W1, W7] } }));
    const before = recordingContext(Date.UTC(2026, 10, 15, 23, 59, 59), () => ({ data: [] }));
    const after = recordingContext(Date.UTC(2026, 10, 16, 0, 0, 1), () => ({ data: [] }));
    expect((await reader.fetch(before.ctx)).day).toBe('2026-11-14');
    expect((await reader.fetch(after.ctx)).day).toBe('2026-11-15');
    expect([...before.queries, ...after.queries]).toEqual([
      { start_time: Date.UTC(2026, 10, 8) / 1000, end_time: Date.UTC(2026, 10, 15) / 1000, granularity: 'day' },
      { start_time: Date.UTC(2026, 10, 9) / 1000, end_time: Date.UTC(2026, 10, 16) / 1000, granularity: 'day' },
    ]);
  });

  it('is complete up to the first day without a bucket; a bucket of zero users is 0', async () => {
    const reader = lechatByTime.reader(readerOptions({ analytics: { windows: [W1, W7] } }));
    const bucket = (day: string, users: number) => ({ time_bucket: `${day}T00:00:00Z`, unique_users_count: users });
    const days = ['2026-11-08', '2026-11-09', '2026-11-10', '2026-11-11', '2026-11-12', '2026-11-13'];
    const notLoaded = recordingContext(NOW, () => ({ data: days.map((d) => bucket(d, 3)) }));
    const snap = await reader.fetch(notLoaded.ctx);
    expect(flat(reader.toFamilies(snap))).toEqual({});
    expect(reader.completeUntil?.(snap)).toBe(END - 86_400);
    const idle = recordingContext(NOW, () => ({ data: [...days, '2026-11-14'].map((d) => bucket(d, d === '2026-11-14' ? 0 : 3)) }));
    const idleSnap = await reader.fetch(idle.ctx);
    expect(flat(reader.toFamilies(idleSnap))).toEqual({ mistral_lechat_daily_active_users: 0 });
    expect(reader.completeUntil?.(idleSnap)).toBe(END);
  });
});

describe('le Chat by_user_stats in slices (a row and a series per member: 100 000 series at 12 000 members)', () => {
  /** 2 600 users, every 97th unreadable, spread so that slices end inside each window. */
  const bigAnswer = (users: number) => ({
    start_time: 0,
    end_time: 0,
    data: Array.from({ length: users }, (_, i) =>
      i % 97 === 0 ? user(`u-${i}`, 'many') : user(`u-${i}`, (i * 7919) % 500, { messages_to_agents_count: i % 5 }),
    ),
  });

  it('reads the rows of an answer in slices, pausing between them, as the whole reading does', async () => {
    const body = bigAnswer(2600);
    const wholeTally = new UnreadableTally();
    const whole = readData(body, 'w', wholeTally, (row, where) => row.user_id ?? where);
    let pauses = 0;
    const slicedTally = new UnreadableTally();
    const sliced = await runSliced(
      readDataSteps(body, 'w', slicedTally, (row, where) => row.user_id ?? where),
      async () => {
        pauses++;
      },
    );
    expect(sliced).toEqual(whole);
    expect(slicedTally.result()).toEqual(wholeTally.result());
    expect(pauses).toBe(Math.floor(2600 / SLICE_ITEMS));
  });

  it('gives the same families in slices as in one go, with and without hashed user ids', async () => {
    const rows1 = parseUserStats(bigAnswer(1300));
    const rows7 = parseUserStats(bigAnswer(2600));
    const snapshot = { windows: [complete(W1, rows1), complete(W7, rows7)] };
    for (const userIdHashKey of [undefined, 'key']) {
      const reader = lechatByUser.reader(
        readerOptions({
          analytics: {
            windows: [W1, W7],
            userMetrics: true,
            userLimit: 2000,
            ...(userIdHashKey ? { userIdHashKey: new Secret(userIdHashKey) } : {}),
          },
        }),
      );
      const sliced = await reader.toFamiliesSliced?.(snapshot);
      expect(sliced).toBeDefined();
      expect(sliced).toEqual(reader.toFamilies(snapshot));
      expect(reader.seriesDropped?.(snapshot)).toEqual(
        userStatsDropped(snapshot, { windows: [W1, W7], userMetrics: true, userLimit: 2000, userIdHashKey: undefined }),
      );
    }
  });
});
