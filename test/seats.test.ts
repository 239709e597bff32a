import { Big } from 'big.js';
import { Anonymizer } from '../src/anonymize.js';
import { describe, expect, it } from 'vitest';
import { formatCheck, runCheck } from '../src/check.js';
import { loadConfig } from '../src/config/index.js';
import type { Peers } from '../src/peers.js';
import { lechatActivity, type LechatActivity, type UserStatsSnapshot } from '../src/sources/lechat-by-user.js';
import type { Json } from '../src/sources/parse.js';
import { ParseError } from '../src/sources/types.js';
import { parseInvites } from '../src/sources/users-invite.js';
import { idleChatSeats, parseSeatPrice, parseUsers, users, usersFamilies, type UsersSnapshot } from '../src/sources/users.js';
import { UnreadableTally } from '../src/sources/unreadable.js';
import type { SimMember } from '../src/simulator/users.js';
import { CANARY_KEY, HARNESS_START, samples, useHarness, valueOf, type Harness } from './support/harness.js';
import { captureLogs } from './support/logs.js';
import { readerOptions, recordingContext, window } from './support/readers.js';

const harness = useHarness();
const DAY_S = 86_400;
const NOW_S = HARNESS_START / 1000;
const TODAY_S = Math.floor(NOW_S / DAY_S) * DAY_S;

const keysOf = (text: string, name: string) => [...samples(text).keys()].filter((k) => k.startsWith(`${name}{`) || k === name);
const label = (s: string) => s.toLowerCase();

/** The seat counts the simulator's members make, computed from its own data: with access, and assigned by status. */
function seatTruth(members: readonly SimMember[]) {
  const withAccess = new Map<string, number>();
  const assigned = new Map<string, number>();
  const add = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  for (const m of members) {
    for (const s of m.subscriptions) {
      const plan = s.plan === null ? 'none' : label(s.plan);
      if (s.member_has_access === true) add(withAccess, `${label(s.type)}|${plan}`);
      add(assigned, `${label(s.type)}|${plan}|${s.status ?? 'none'}`);
    }
    for (const t of m.subscription_types ?? [])
      if (!m.subscriptions.some((s) => s.type === t)) add(assigned, `${label(t)}|unknown|unknown`);
  }
  return { withAccess, assigned };
}

/** Every count of GET users on /metrics equals the simulator's truth. */
function expectCountsOf(h: Harness, text: string): void {
  const members = h.sim.truth.members();
  expect(valueOf(text, 'mistral_members')).toBe(members.length);
  const { withAccess, assigned } = seatTruth(members);
  expect(keysOf(text, 'mistral_seats')).toHaveLength(withAccess.size);
  for (const [k, n] of withAccess) {
    const [product, plan] = k.split('|') as [string, string];
    expect(valueOf(text, 'mistral_seats', { product, plan }), k).toBe(n);
  }
  expect(keysOf(text, 'mistral_seats_assigned')).toHaveLength(assigned.size);
  for (const [k, n] of assigned) {
    const [product, plan, status] = k.split('|') as [string, string, string];
    expect(valueOf(text, 'mistral_seats_assigned', { product, plan, status }), k).toBe(n);
  }
  const invites = h.sim.truth.invites();
  expect(valueOf(text, 'mistral_invites', { state: 'expired' })).toBe(invites.filter((i) => i.expired).length);
  expect(valueOf(text, 'mistral_invites', { state: 'pending' })).toBe(invites.filter((i) => !i.expired).length);
}

describe('GET users and users-invite against the simulator', () => {
  it('exports members, seats with access and assigned, invitations and the idle le Chat seats, as the simulator has them', async () => {
    const h = await harness();
    await h.refresh('lechat_by_user');
    await h.refresh('users');
    await h.refresh('users_invite');
    const text = await h.scrape();
    expectCountsOf(h, text);
    const idle = h.sim.truth.idleChatSeats(30);
    expect(idle).toBeGreaterThan(0);
    expect(valueOf(text, 'mistral_seats_idle', { product: 'chat' })).toBe(idle);
    // Some idle-looking members joined within the 30 days: they are not idle yet, and the simulator has some.
    const recent = h.sim.truth.members().filter((m) => m.createdSeconds > TODAY_S - 30 * DAY_S);
    expect(recent.length).toBeGreaterThan(0);
    expect(keysOf(text, 'mistral_seats_idle_cost')).toEqual([]);
    expect(valueOf(text, 'mistral_invites_outstanding')).toBe(h.sim.truth.invites().length);
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'users' })).toBe(1);
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'users_invite' })).toBe(1);

    // 2000 users, 80 more members and 20 invitations: 21 pages of 100, asked in turn.
    const asked = h.sim.requests.filter((r) => r.endpoint === 'users');
    expect(asked.map((r) => [r.method, r.query.page, r.query.page_size])).toEqual(
      Array.from({ length: 21 }, (_, i) => ['GET', String(i + 1), '100']),
    );
    // Counts only: no email, name or member id on /metrics or in a log line; the key nowhere.
    const logged = JSON.stringify(h.logs.lines());
    for (const m of h.sim.truth.members().slice(0, 200)) {
      for (const secret of [m.email, m.name, m.uuid]) {
        expect(text).not.toContain(secret);
        expect(logged).not.toContain(secret);
      }
    }
    for (const i of h.sim.truth.invites()) expect(text + logged).not.toContain(i.email);
    expect(logged).not.toContain(CANARY_KEY);
  });

  it('SEAT_IDLE_DAYS sets the period; SEAT_PRICE_CHAT turns the idle seats into a monthly cost', async () => {
    const h = await harness({ env: { SEAT_IDLE_DAYS: '7', SEAT_PRICE_CHAT: '14.99 eur' } });
    await h.refresh('lechat_by_user');
    await h.refresh('users');
    const text = await h.scrape();
    const idle = h.sim.truth.idleChatSeats(7);
    expect(idle).not.toBe(h.sim.truth.idleChatSeats(30));
    expect(valueOf(text, 'mistral_seats_idle', { product: 'chat' })).toBe(idle);
    expect(valueOf(text, 'mistral_seats_idle_cost', { product: 'chat', currency: 'EUR' })).toBe(Number(new Big('14.99').times(idle)));
  });

  it('the ids are compared as both answers give them: a pseudonymised user_id label changes nothing', async () => {
    const h = await harness({ env: { LECHAT_USER_METRICS: 'true', LECHAT_USER_ID_HASH_KEY: 'some-secret-key' } });
    await h.refresh('lechat_by_user');
    await h.refresh('users');
    const text = await h.scrape();
    expect(valueOf(text, 'mistral_seats_idle', { product: 'chat' })).toBe(h.sim.truth.idleChatSeats(30));
    expect(text).not.toContain(h.sim.truth.members()[0]?.uuid);
  });

  it.each([
    ['le Chat by_user_stats is not read (MISTRAL_ENDPOINTS)', { env: { MISTRAL_ENDPOINTS: 'users,users_invite' } }, 'no fresh data'],
    ['the longest window is shorter than SEAT_IDLE_DAYS', { env: { ANALYTICS_WINDOWS: '1d,7d' } }, 'shorter than SEAT_IDLE_DAYS'],
    ['yesterday is not loaded into the analytics yet', { sim: { unloadedDays: 1 } }, 'last day loaded'],
  ])('the idle seats are absent, never 0, when %s; the counts stay', async (_why, options, logged) => {
    const h = await harness(options);
    await h.refreshAll();
    const text = await h.scrape();
    expect(keysOf(text, 'mistral_seats_idle')).toEqual([]);
    expectCountsOf(h, text);
    expect(h.logs.lines().some((l) => l.api_endpoint === 'users' && String(l.msg).includes(logged))).toBe(true);
  });

  it('by_user_stats failing: no idle seats from it; they come back with its data', async () => {
    const h = await harness();
    h.sim.setFault('lechat_by_user', { kind: 'status', status: 500 });
    await h.refresh('lechat_by_user');
    await h.refresh('users');
    expect(keysOf(await h.scrape(), 'mistral_seats_idle')).toEqual([]);
    h.sim.clearFaults();
    await h.refresh('lechat_by_user');
    await h.refresh('users');
    expect(valueOf(await h.scrape(), 'mistral_seats_idle', { product: 'chat' })).toBe(h.sim.truth.idleChatSeats(30));
  });

  it('reads the odd shapes the schema allows: null total and plans, subscription_types only, other products', async () => {
    const h = await harness({ sim: { oddShapes: true } });
    await h.refresh('lechat_by_user');
    await h.refresh('users');
    await h.refresh('users_invite');
    const text = await h.scrape();
    expectCountsOf(h, text);
    expect(valueOf(text, 'mistral_seats_assigned', { product: 'chat', plan: 'none', status: 'none' })).toBeGreaterThan(0);
    expect(keysOf(text, 'mistral_seats').some((k) => k.includes('product="api"'))).toBe(true);
    expect(valueOf(text, 'mistral_seats_idle', { product: 'chat' })).toBe(h.sim.truth.idleChatSeats(30));
    expect(valueOf(text, 'mistral_invites_outstanding')).toBe(h.sim.truth.invites().length);
    // Without a total, the list ends at the first short page: 2100 entries fill 21 pages, the 22nd is empty.
    expect(h.sim.requests.filter((r) => r.endpoint === 'users')).toHaveLength(22);
    expect(valueOf(text, 'mistral_exporter_unreadable_entries', { api_endpoint: 'users', reason: 'missing' }) ?? 0).toBe(0);
  });

  it('without a total, a server giving fewer entries per page than asked is still read whole, up to its empty page', async () => {
    const h = await harness({ sim: { oddShapes: true, maxPageSize: 30 } });
    await h.refresh('lechat_by_user');
    await h.refresh('users');
    const text = await h.scrape();
    expectCountsOf(h, text);
    // 2100 entries in pages of 30: 70 pages, then the empty 71st.
    expect(h.sim.requests.filter((r) => r.endpoint === 'users')).toHaveLength(71);
  });

  it('a 403 (a key without the scope) costs only that endpoint, and check says so', async () => {
    const h = await harness();
    h.sim.setFault('users', { kind: 'status', status: 403, body: { detail: 'Forbidden' } });
    await h.refreshAll();
    const text = await h.scrape();
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'users' })).toBe(0);
    const ups = [...samples(text)].filter(([k]) => k.startsWith('mistral_up{') && !k.includes('"users"'));
    expect(ups.length).toBeGreaterThan(5);
    expect(ups.filter(([, v]) => v !== 1)).toEqual([]);
    expect(keysOf(text, 'mistral_members')).toEqual([]);

    h.sim.clearFaults();
    h.sim.setFault('users_invite', { kind: 'status', status: 403 }, 1);
    const command = loadConfig({
      argv: ['check'],
      env: { MISTRAL_ADMIN_API_KEY: CANARY_KEY, MISTRAL_ADMIN_API_URL: h.sim.url, MISTRAL_ENDPOINTS: 'lechat_by_user,users,users_invite' },
    });
    if (command.kind !== 'check') throw new Error('unexpected command');
    const results = await runCheck(command.config, { logger: captureLogs().logger });
    const report = formatCheck({ apiUrl: h.sim.url, pathLayout: 'auto', demo: false, results });
    expect(report).toMatch(/^ok +users /m);
    expect(report).toMatch(/^FAILED +users_invite +users-invite +403 /m);
    expect(report.replace(/\s+/g, ' ')).toContain('can leave users_invite out of MISTRAL_ENDPOINTS');
    expect(report).not.toContain(CANARY_KEY);
  });

  it('check --save-answers keeps no name, email or id of a member or invitee, and keeps the seats', async () => {
    const h = await harness({ sim: { oddShapes: true } });
    const page = h.sim.bodyFor('users', { page: '1', page_size: '100' }) as { members: Array<Record<string, unknown>> };
    const invites = h.sim.bodyFor('users_invite') as Array<Record<string, unknown>>;
    const saved = JSON.stringify(new Anonymizer([]).json([page, invites] as unknown as Json));
    for (const m of h.sim.truth.members().slice(0, 100)) {
      for (const v of [m.uuid, m.oid_id, m.name, m.email, ...m.subscriptions.map((s) => s.user)])
        if (v !== null) expect(saved).not.toContain(v);
    }
    for (const i of h.sim.truth.invites()) expect(saved).not.toContain(i.email);
    expect(saved).toContain('"member_has_access":true');
    expect(saved).toContain('"type":"CHAT"');
  });

  it('MISTRAL_ENDPOINTS without users and users_invite: never asked, no series', async () => {
    const h = await harness({ env: { MISTRAL_ENDPOINTS: 'spend_limit,lechat_by_user' } });
    await h.refreshAll();
    const text = await h.scrape();
    expect(h.sim.requests.filter((r) => r.endpoint === 'users' || r.endpoint === 'users_invite')).toEqual([]);
    expect(text).not.toMatch(/mistral_(members|seats|invites)/);
  });
});

// ---------------------------------------------------------------- the reader alone

const member = (uuid: string, extra: Record<string, Json> = {}): Json => ({
  uuid,
  oid_id: null,
  name: 'Alice',
  email: 'alice@example.com',
  raw_roles: ['M'],
  raw_role: 'M',
  created_at: '2025-01-01T00:00:00Z',
  subscriptions: [{ type: 'CHAT', plan: 'TEAM', status: 'A', member_has_access: true }],
  ...extra,
});

const activityOf = (lastMessage: Array<[string, number | undefined]>, o: Partial<LechatActivity> = {}): LechatActivity => ({
  start: TODAY_S - 30 * DAY_S,
  end: TODAY_S,
  days: 30,
  whole: true,
  lastMessage: new Map(lastMessage),
  ...o,
});

function snapshotOf(members: Json[], activity: LechatActivity | undefined, idleDays = 30): UsersSnapshot {
  const read = parseUsers(members.map((raw) => ({ kind: 'member' as const, raw })));
  return { ...read, complete: true, activity, idleDays };
}

describe('users: the reader', () => {
  it('a member is active through any id the API gives it: uuid, oid_id, or a subscription user', () => {
    const members = [
      member('m1'),
      member('m2', { oid_id: 'o2' }),
      member('m3', { subscriptions: [{ type: 'CHAT', plan: 'TEAM', status: 'A', user: 'u3', member_has_access: true }] }),
      member('m4'),
    ];
    const recent = TODAY_S - DAY_S;
    expect(
      idleChatSeats(
        snapshotOf(
          members,
          activityOf([
            ['m1', recent],
            ['o2', recent],
            ['u3', recent],
          ]),
        ),
      ),
    ).toBe(1);
  });

  it('idle means no message within SEAT_IDLE_DAYS of the window end; an unknown instant is never called idle', () => {
    const members = [member('m1'), member('m2'), member('m3')];
    const a = activityOf([
      ['m1', TODAY_S - 10 * DAY_S],
      ['m2', undefined],
    ]);
    expect(idleChatSeats(snapshotOf(members, a, 30))).toBe(1);
    expect(idleChatSeats(snapshotOf(members, a, 7))).toBe(2);
  });

  it('counted in slices between turns of the event loop, with the same families as counted in one go', async () => {
    const members = Array.from({ length: 3500 }, (_, i) => member(`m${i}`));
    const a = activityOf(members.slice(0, 1200).map((_, i) => [`m${i}`, TODAY_S - (i % 40) * DAY_S] as [string, number]));
    const snapshot = snapshotOf(members, a, 30);
    const reader = users.reader(readerOptions());
    const sliced = await reader.toFamiliesSliced?.(snapshot);
    expect(sliced).toBeDefined();
    expect(sliced).toEqual(reader.toFamilies(snapshot));
    expect(sliced?.find((f) => f.name === 'mistral_seats_idle')?.samples[0]?.value).toBeGreaterThan(2000);
  });

  it('absent when no user_id matches a member (ids pseudonymised or of another kind), or the data is partial', () => {
    const members = [member('m1'), member('m2')];
    expect(idleChatSeats(snapshotOf(members, activityOf([['9c0ab39f', TODAY_S - DAY_S]])))).toBeUndefined();
    expect(idleChatSeats(snapshotOf(members, activityOf([['m1', TODAY_S - DAY_S]], { whole: false })))).toBeUndefined();
    expect(idleChatSeats(snapshotOf(members, activityOf([['m1', TODAY_S - DAY_S]], { days: 7 })))).toBeUndefined();
    expect(idleChatSeats(snapshotOf(members, undefined))).toBeUndefined();
    // Nobody wrote at all: every seat is idle.
    expect(idleChatSeats(snapshotOf(members, activityOf([])))).toBe(2);
  });

  it('only seats with access count; a member who joined within the period or without a date is not idle', () => {
    const members = [
      member('m1', { subscriptions: [{ type: 'CHAT', plan: 'TEAM', status: 'C', member_has_access: false }] }),
      member('m2', { created_at: new Date((TODAY_S - 3 * DAY_S) * 1000).toISOString() }),
      member('m3', { created_at: null }),
      member('m4', { subscriptions: [], subscription_types: ['CHAT'] }),
      member('m5'),
    ];
    const s = snapshotOf(members, activityOf([]));
    expect(idleChatSeats(s)).toBe(1);
    const families = usersFamilies(s, { idleDays: 30, prices: { chat: parseSeatPrice('10 USD') } });
    const assigned = families.find((f) => f.name === 'mistral_seats_assigned')?.samples;
    expect(assigned).toContainEqual({ labels: { product: 'chat', plan: 'unknown', status: 'unknown' }, value: 1 });
    expect(families.find((f) => f.name === 'mistral_seats_idle_cost')?.samples).toEqual([
      { labels: { product: 'chat', currency: 'USD' }, value: 10 },
    ]);
  });

  it('an unreadable member or invitation costs only itself; a subscription without a type costs its member', () => {
    const tally = new UnreadableTally();
    const read = parseUsers(
      [
        { kind: 'member', raw: member('m1') },
        { kind: 'member', raw: member('m2', { subscriptions: [{ plan: 'TEAM' }] }) },
        { kind: 'member', raw: { email: 'x@example.com' } },
        { kind: 'member', raw: member('m1') },
        { kind: 'invite', raw: { uuid: 'i1', expired: false, email: 'a@example.com', created_at: '2025-01-01T00:00:00Z' } },
        { kind: 'invite', raw: { uuid: 'i2', email: 'b@example.com' } },
      ],
      tally,
    );
    expect(read.members).toHaveLength(1);
    expect(read.invitesExpired).toEqual([false]);
    expect(tally.result().missing?.count).toBe(3);
  });

  it('without a total, a server that ignores `page` (the same page again) is read twice, not 1000 times, and counts nothing', async () => {
    const page = { members: Array.from({ length: 100 }, (_, i) => member(`m${i}`)), invites: [], total: null, page: 1, page_size: 100 };
    let n = 0;
    const { ctx } = recordingContext(HARNESS_START, () => {
      n += 1;
      return page;
    });
    const reader = users.reader(readerOptions());
    const s = await reader.fetch(ctx);
    expect(n).toBe(2);
    expect(s.complete).toBe(false);
    expect(reader.toFamilies(s).every((f) => f.samples.length === 0)).toBe(true);
  });

  it('stops at 1000 pages: no count is exported from part of a list', async () => {
    const page = { members: Array.from({ length: 100 }, (_, i) => member(`m${i}`)), invites: [], total: null, page: 1, page_size: 100 };
    let n = 0;
    const { ctx } = recordingContext(HARNESS_START, () => {
      n += 1;
      return { ...page, members: page.members.map((m, i) => ({ ...(m as object), uuid: `p${n}-${i}` })) };
    });
    const reader = users.reader(readerOptions());
    const s = await reader.fetch(ctx);
    expect(n).toBe(1000);
    expect(s.complete).toBe(false);
    expect(reader.toFamilies(s).every((f) => f.samples.length === 0)).toBe(true);
  });

  it('reads what lechat_by_user shared after waiting for its first try, and keeps it in its snapshot', async () => {
    const shared = activityOf([['m1', TODAY_S - DAY_S]]);
    const waited: string[] = [];
    const peers: Peers = {
      latest: (e) => (e === 'lechat_by_user' ? shared : undefined),
      tried: async (e) => {
        waited.push(e);
      },
    };
    const { ctx } = recordingContext(HARNESS_START, () => ({
      members: [member('m1'), member('m2')],
      invites: [],
      total: 2,
      page: 1,
      page_size: 100,
    }));
    const s = await users.reader(readerOptions()).fetch({ ...ctx, peers });
    expect(waited).toEqual(['lechat_by_user']);
    expect(s.activity).toBe(shared);
    expect(idleChatSeats(s)).toBe(1);
  });

  it('lechat_by_user shares its longest window: the last message per user, whole only when complete and fully read', () => {
    const end = TODAY_S;
    const row = (userId: string, messages: number, lastMessageAt: number | undefined) => ({
      userId,
      messages,
      files: 0,
      images: 0,
      spreadsheets: 0,
      conversations: 0,
      messagesToAgents: 0,
      lastMessageAt,
    });
    const snapshot: UserStatsSnapshot = {
      windows: [
        {
          window: window(30),
          end,
          completeUntil: end,
          rows: [row('a', 3, end - 100), row('a', 1, end - 50), row('b', 2, undefined), row('c', 0, undefined)],
        },
      ],
    };
    const a = lechatActivity(snapshot);
    expect(a).toMatchObject({ start: end - 30 * DAY_S, end, days: 30, whole: true });
    expect([...(a?.lastMessage ?? [])]).toEqual([
      ['a', end - 50],
      ['b', undefined],
    ]);
    expect(lechatActivity({ ...snapshot, unreadable: { missing: { count: 1, example: 'x' } } })?.whole).toBe(false);
    expect(lechatActivity({ windows: [{ ...snapshot.windows[0]!, completeUntil: end - DAY_S }] })?.whole).toBe(false);
  });
});

describe('users-invite: the reader', () => {
  it('counts the distinct invitations; one without an id costs only itself; not an array is refused', () => {
    const tally = new UnreadableTally();
    expect(parseInvites([{ invite_uuid: 'a', email: null }, { invite_uuid: 'a' }, { invite_uuid: 'b' }, { email: 'x' }], tally)).toBe(2);
    expect(tally.result().missing?.count).toBe(1);
    expect(() => parseInvites({ invites: [] })).toThrow(ParseError);
    expect(parseInvites([])).toBe(0);
  });

  it('SEAT_PRICE_CHAT is an amount and a currency code', () => {
    expect(parseSeatPrice(' 14.99  eur ')).toMatchObject({ currency: 'EUR' });
    expect(() => parseSeatPrice('14.99')).toThrow(/14.99 EUR/);
    expect(() => parseSeatPrice('EUR 14.99')).toThrow();
    expect(() => parseSeatPrice('-1 EUR')).toThrow();
  });
});
