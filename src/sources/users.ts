import { Big } from 'big.js';
import { parseIsoTimestamp } from '../dates.js';
import { decimalToNumber, family, REFRESHED, type FamilyDef } from './families.js';
import { type LechatActivity, sharedLechatActivity } from './lechat-by-user.js';
import { fetchPages } from './pages.js';
import { expectArray, expectObject, isObject, optionalBoolean, optionalString, type Json, type JsonObject } from './parse.js';
import { defineEndpoint, ParseError, type MetricFamily, type Reader, type Sample, type Unreadable } from './types.js';
import { runSliced, runWhole, SLICE_ITEMS, type Steps } from '../slices.js';
import { refuseUnreadable, UnreadableTally } from './unreadable.js';
import { DAY_S } from './windows.js';

/**
 * GET users (beta, paginated by page and page_size): the organization's
 * members with their product seats (`subscriptions`: type, plan, status,
 * whether the member has access), and the pending invitations, both on the
 * same pages (`total` counts the two together and may be null). Only counts
 * are exported: no name, email or id of anyone reaches a series or a log line.
 *
 * Idle le Chat seats join this list with le Chat's by-user activity, which
 * `lechat_by_user` shares (`ctx.peers`): read at fetch time, kept in the
 * snapshot, so that `toFamilies` stays pure.
 */

/** A product seat as a label: the product (`chat`, `mistral_code`, ...), the plan, the status code. */
export interface SeatRow {
  product: string;
  /** Lower case (`team`, `enterprise`); `none` when the API gives none; `unknown` for a product listed only in subscription_types. */
  plan: string;
  /** The API's status code as given (`A`, `C`, `GP`, ...); `none` when null; `unknown` as for the plan. */
  status: string;
  /** member_has_access; undefined when the API does not say. */
  access: boolean | undefined;
}

export interface MemberRow {
  /** Every id the API gives the member (uuid, oid_id, the subscriptions' user), to match le Chat's user_id. */
  ids: string[];
  /** Unix seconds; undefined when unreadable. */
  createdAt: number | undefined;
  seats: SeatRow[];
}

export interface UsersSnapshot {
  members: MemberRow[];
  /** Per pending invitation listed: whether it has expired. */
  invitesExpired: boolean[];
  /** False when the page cap stopped the reading: the lists may be longer, and no count is exported. */
  complete: boolean;
  /** What le Chat by_user_stats shared when this refresh ran; undefined when it had nothing fresh. */
  activity: LechatActivity | undefined;
  /** SEAT_IDLE_DAYS. */
  idleDays: number;
  unreadable?: Unreadable;
}

/** A seat price: an amount per seat and month, in a currency (`SEAT_PRICE_<PRODUCT>`, e.g. `14.99 EUR`). */
export interface SeatPrice {
  amount: Big;
  currency: string;
}

export interface SeatOptions {
  /** SEAT_IDLE_DAYS: a le Chat seat is idle when its member sent no message in that many complete UTC days. */
  idleDays: number;
  /** Monthly price per seat, by product label (`chat`). */
  prices: Readonly<Partial<Record<string, SeatPrice>>>;
}

/** Parses `14.99 EUR` (an amount, a space, an ISO 4217 code). */
export function parseSeatPrice(text: string): SeatPrice {
  const m = /^\s*(\d+(?:\.\d+)?)\s+([A-Za-z]{3})\s*$/.exec(text);
  if (!m) throw new Error('write an amount and a currency code, e.g. 14.99 EUR');
  return { amount: new Big(m[1] as string), currency: (m[2] as string).toUpperCase() };
}

/** Most pages read per refresh, PAGE_SIZE entries (members and invitations) each: 100 000 entries. */
const PAGE_SIZE = 100;
const MAX_PAGES = 1000;

export const CHAT = 'chat';

/** `MISTRAL_CODE` → `mistral_code`. */
function label(text: string): string {
  return (
    text
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'unknown'
  );
}

/** A date-time as Unix seconds; undefined when absent or null; a ParseError when it is not a date. */
function optionalDate(v: Json | undefined, where: string): number | undefined {
  const text = optionalString(v, where);
  if (text === undefined) return undefined;
  const ms = parseIsoTimestamp(text);
  if (ms === undefined) throw new ParseError(`${where}: expected a date-time, got ${JSON.stringify(text.slice(0, 40))}`, 'wrong_type');
  return ms / 1000;
}

function readSeat(raw: Json, where: string): SeatRow & { user: string | undefined } {
  const s = expectObject(raw, where);
  const type = optionalString(s.type, `${where}.type`)?.trim();
  if (!type) throw new ParseError(`${where}.type: missing`, 'missing');
  const plan = optionalString(s.plan, `${where}.plan`);
  const status = optionalString(s.status, `${where}.status`)?.trim();
  return {
    product: label(type),
    plan: plan === undefined ? 'none' : label(plan),
    status: status || 'none',
    access: optionalBoolean(s.member_has_access, `${where}.member_has_access`),
    user: optionalString(s.user, `${where}.user`)?.trim() || undefined,
  };
}

function readMember(raw: Json, where: string): MemberRow & { uuid: string } {
  const m = expectObject(raw, where);
  const uuid = optionalString(m.uuid, `${where}.uuid`)?.trim();
  if (!uuid) throw new ParseError(`${where}.uuid: missing`, 'missing');
  const subs = m.subscriptions === null || m.subscriptions === undefined ? [] : expectArray(m.subscriptions, `${where}.subscriptions`);
  const read = subs.map((s, i) => readSeat(s, `${where}.subscriptions[${i}]`));
  const seats: SeatRow[] = read.map(({ user: _user, ...seat }) => seat);
  // A product the member has a seat of (subscription_types) with no subscription listed: a seat of unknown plan and access.
  const types =
    m.subscription_types === null || m.subscription_types === undefined
      ? []
      : expectArray(m.subscription_types, `${where}.subscription_types`);
  types.forEach((t, i) => {
    const product = label(optionalString(t, `${where}.subscription_types[${i}]`) ?? '');
    if (!seats.some((s) => s.product === product)) seats.push({ product, plan: 'unknown', status: 'unknown', access: undefined });
  });
  const oid = optionalString(m.oid_id, `${where}.oid_id`)?.trim();
  const ids = [...new Set([uuid, ...(oid ? [oid] : []), ...read.flatMap((s) => (s.user ? [s.user] : []))])];
  return { uuid, ids, createdAt: optionalDate(m.created_at, `${where}.created_at`), seats };
}

function readInvite(raw: Json, where: string): { uuid: string; expired: boolean } {
  const inv = expectObject(raw, where);
  const uuid = optionalString(inv.uuid, `${where}.uuid`)?.trim();
  if (!uuid) throw new ParseError(`${where}.uuid: missing`, 'missing');
  const expired = optionalBoolean(inv.expired, `${where}.expired`);
  if (expired === undefined) throw new ParseError(`${where}.expired: missing`, 'missing');
  return { uuid, expired };
}

/**
 * One entry of GET users, read as its page arrives (so that the pages' JSON
 * is let go page by page, not held until the last one): what it reads as, or
 * why it could not be read (tallied once the list is whole, in the order of
 * the list). `id`: its uuid, to notice a page that repeats earlier ones.
 */
type Entry =
  | { kind: 'member'; id: string | undefined; read: (MemberRow & { uuid: string }) | ParseError }
  | { kind: 'invite'; id: string | undefined; read: { uuid: string; expired: boolean } | ParseError };

function outcome<T>(read: (raw: Json, where: string) => T, raw: Json, where: string): T | ParseError {
  try {
    return read(raw, where);
  } catch (err) {
    if (err instanceof ParseError) return err;
    throw err;
  }
}

/** A member's or invitation's uuid, apart from each other; undefined for an entry without one (it is refused where it is read). */
function rawId(kind: Entry['kind'], raw: Json): string | undefined {
  const uuid = isObject(raw) ? raw.uuid : undefined;
  return typeof uuid === 'string' ? `${kind}/${uuid}` : undefined;
}

/**
 * Reads the pages of GET users in turn: each page's members, then its
 * invitations (both arrays are required), numbered across the pages as one
 * list of members and one of invitations.
 */
function pageReader(): (page: JsonObject, what: string) => Entry[] {
  let members = 0;
  let invites = 0;
  return (page, what) => {
    const memberItems = expectArray(page.members, `${what}.members`);
    const inviteItems = expectArray(page.invites, `${what}.invites`);
    const entries: Entry[] = [];
    for (const raw of memberItems) {
      entries.push({ kind: 'member', id: rawId('member', raw), read: outcome(readMember, raw, `users.members[${members++}]`) });
    }
    for (const raw of inviteItems) {
      entries.push({ kind: 'invite', id: rawId('invite', raw), read: outcome(readInvite, raw, `users.invites[${invites++}]`) });
    }
    return entries;
  };
}

/** The readable members and invitations of entries as one page of GET users would hold them, each once (see parseUsersSteps). */
export function parseUsers(
  entries: ReadonlyArray<{ kind: Entry['kind']; raw: Json }>,
  tally = new UnreadableTally(),
): Pick<UsersSnapshot, 'members' | 'invitesExpired'> {
  const rawOf = (kind: Entry['kind']) => entries.filter((e) => e.kind === kind).map((e) => e.raw);
  return runWhole(parseUsersSteps(pageReader()({ members: rawOf('member'), invites: rawOf('invite') }, 'users'), tally));
}

/**
 * The readable members and invitations of the entries read, each once; an
 * unreadable one is skipped and tallied (members first, then invitations).
 * Steps that pause every SLICE_ITEMS entries (an organization of 50 000
 * members is gone through between turns of the event loop).
 */
function* parseUsersSteps(entries: readonly Entry[], tally: UnreadableTally): Steps<Pick<UsersSnapshot, 'members' | 'invitesExpired'>> {
  const members: Array<MemberRow & { uuid: string }> = [];
  const invites: Array<{ uuid: string; expired: boolean }> = [];
  const counts = { member: 0, invite: 0 };
  let done = 0;
  for (const kind of ['member', 'invite'] as const) {
    for (const e of entries) {
      if (e.kind !== kind) continue;
      counts[kind]++;
      if (e.read instanceof ParseError) tally.add(e.read);
      else if (e.kind === 'member') members.push(e.read);
      else invites.push(e.read);
      if (++done % SLICE_ITEMS === 0) yield;
    }
  }
  refuseUnreadable(
    'users',
    [
      { entries: counts.member, read: members.length },
      { entries: counts.invite, read: invites.length },
    ],
    tally,
  );
  // An entry that moved between two pages (someone joined meanwhile) shows twice: keep the first.
  const seen = new Set<string>();
  const once = <T extends { uuid: string }>(rows: T[]) => rows.filter((r) => !seen.has(r.uuid) && seen.add(r.uuid));
  return {
    members: once(members).map(({ uuid: _uuid, ...m }) => m),
    invitesExpired: once(invites).map((i) => i.expired),
  };
}

export const USER_FAMILIES = {
  members: {
    name: 'mistral_members',
    help: `Members of the organization (GET users). Absent when the list was longer than the exporter reads. ${REFRESHED}`,
    labelNames: [],
  },
  seats: {
    name: 'mistral_seats',
    help: `Product seats whose member has access (member_has_access true, GET users), by product (chat, mistral_code, ...) and plan. Absent when the list was longer than the exporter reads. ${REFRESHED}`,
    labelNames: ['product', 'plan'],
  },
  seatsAssigned: {
    name: 'mistral_seats_assigned',
    help: `Product seats assigned to members, with access or not (GET users), by product, plan and the API's status code (none: null). Absent like mistral_seats. ${REFRESHED}`,
    labelNames: ['product', 'plan', 'status'],
  },
  idle: {
    name: 'mistral_seats_idle',
    help: `le Chat seats with access whose member, a member for SEAT_IDLE_DAYS at least, sent no le Chat message in the last SEAT_IDLE_DAYS complete UTC days (GET users joined with le Chat by_user_stats). Absent when le Chat's by-user data is not read, not complete, shorter than SEAT_IDLE_DAYS or its ids match no member. ${REFRESHED}`,
    labelNames: ['product'],
  },
  idleCost: {
    name: 'mistral_seats_idle_cost',
    help: `What the idle seats cost per month: mistral_seats_idle times the SEAT_PRICE_<PRODUCT> setting, in its currency. Absent without that setting. ${REFRESHED}`,
    labelNames: ['product', 'currency'],
  },
  invites: {
    name: 'mistral_invites',
    help: `Invitations to the organization sent and not accepted (GET users), by state: pending, or expired. Absent when the list was longer than the exporter reads. ${REFRESHED}`,
    labelNames: ['state'],
  },
} as const satisfies Record<string, FamilyDef>;

/** Why the idle seats cannot be counted; undefined when they can. */
export function idleUnknownBecause(s: UsersSnapshot): string | undefined {
  const a = s.activity;
  if (!s.complete) return 'the members list was longer than the exporter reads';
  if (a === undefined) return 'le Chat by_user_stats has no fresh data (not read yet, failing, or turned off in MISTRAL_ENDPOINTS)';
  if (a.days < s.idleDays) return `the longest ANALYTICS_WINDOWS window (${a.days}d) is shorter than SEAT_IDLE_DAYS (${s.idleDays})`;
  if (!a.whole) return 'le Chat by_user_stats does not show its last day loaded yet, or had unreadable rows';
  if (a.lastMessage.size > 0 && !s.members.some((m) => m.ids.some((id) => a.lastMessage.has(id))))
    return "no user_id of le Chat by_user_stats is the id of a member of GET users: the two answers' ids cannot be matched";
  return undefined;
}

/** Idle le Chat seats (see USER_FAMILIES.idle); undefined when they cannot be counted. */
export function idleChatSeats(s: UsersSnapshot): number | undefined {
  return runWhole(idleChatSeatsSteps(s));
}

function* idleChatSeatsSteps(s: UsersSnapshot): Steps<number | undefined> {
  const a = s.activity;
  if (a === undefined || idleUnknownBecause(s) !== undefined) return undefined;
  const since = a.end - s.idleDays * DAY_S;
  // Wrote since `since`, or wrote in the window at an unknown instant (never called idle on a guess).
  const wrote = (id: string) => a.lastMessage.has(id) && (a.lastMessage.get(id) ?? since) >= since;
  let idle = 0;
  for (let i = 0; i < s.members.length; i++) {
    if (i % SLICE_ITEMS === SLICE_ITEMS - 1) yield;
    const m = s.members[i] as MemberRow;
    if (!m.seats.some((seat) => seat.product === CHAT && seat.access === true)) continue;
    // A member who joined within the period (or whose joining date is unknown) has not had the days to be idle.
    if (m.createdAt === undefined || m.createdAt > since) continue;
    if (!m.ids.some(wrote)) idle += 1;
  }
  return idle;
}

/** Seats counted per label set, members' seats in turn: a pause every SLICE_ITEMS members. */
function* countSeatsSteps(members: readonly MemberRow[], labelsOf: (seat: SeatRow) => Record<string, string> | undefined): Steps<Sample[]> {
  const counts = new Map<string, Sample>();
  for (let i = 0; i < members.length; i++) {
    if (i % SLICE_ITEMS === SLICE_ITEMS - 1) yield;
    for (const seat of (members[i] as MemberRow).seats) {
      const labels = labelsOf(seat);
      if (labels === undefined) continue;
      const key = Object.values(labels).join('\u0000');
      const sample = counts.get(key) ?? { labels, value: 0 };
      sample.value += 1;
      counts.set(key, sample);
    }
  }
  return [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
}

/** Pure: the users metric families of a snapshot. */
export function usersFamilies(s: UsersSnapshot, options: SeatOptions): MetricFamily[] {
  return runWhole(usersFamiliesSteps(s, options));
}

/** `usersFamilies` as steps that pause every SLICE_ITEMS members (see slices.ts). */
function* usersFamiliesSteps(s: UsersSnapshot, options: SeatOptions): Steps<MetricFamily[]> {
  const F = USER_FAMILIES;
  // A count of part of a list is not the count the API would give: none rather than a wrong one.
  if (!s.complete) return Object.values(F).map((def) => family(def, []));
  const idle = yield* idleChatSeatsSteps(s);
  const price = options.prices[CHAT];
  const expired = s.invitesExpired.filter(Boolean).length;
  const withAccess = yield* countSeatsSteps(s.members, (seat) =>
    seat.access === true ? { product: seat.product, plan: seat.plan } : undefined,
  );
  const assigned = yield* countSeatsSteps(s.members, (seat) => ({ product: seat.product, plan: seat.plan, status: seat.status }));
  return [
    family(F.members, [{ labels: {}, value: s.members.length }]),
    family(F.seats, withAccess),
    family(F.seatsAssigned, assigned),
    family(F.idle, idle === undefined ? [] : [{ labels: { product: CHAT }, value: idle }]),
    family(
      F.idleCost,
      idle === undefined || price === undefined
        ? []
        : [{ labels: { product: CHAT, currency: price.currency }, value: decimalToNumber(price.amount.times(idle)) }],
    ),
    family(F.invites, [
      { labels: { state: 'expired' }, value: expired },
      { labels: { state: 'pending' }, value: s.invitesExpired.length - expired },
    ]),
  ];
}

export const users = defineEndpoint({
  id: 'users',
  describe: 'GET users',
  title: 'users',
  paths: 'users',
  intervalGroup: 'analytics',
  query: `\`page\`, \`page_size=${PAGE_SIZE}\`: every page, at most ${MAX_PAGES}`,
  perWorkspace: false,
  families: Object.values(USER_FAMILIES),
  reader: ({ seats }): Reader<UsersSnapshot> => {
    let loggedBecause: string | undefined;
    return {
      async fetch(ctx) {
        const pages = await fetchPages(ctx, 'users', {
          pageSize: PAGE_SIZE,
          maxPages: MAX_PAGES,
          itemsOf: pageReader(),
          totalMayBeNull: true,
          idOf: (e) => e.id,
        });
        const tally = new UnreadableTally();
        const read = await runSliced(parseUsersSteps(pages.items, tally));
        if (!pages.complete) {
          ctx.logger.warn(
            { api_endpoint: 'users', entries: pages.items.length },
            `GET users: more members and invitations than ${MAX_PAGES} pages of ${PAGE_SIZE} hold; the counts are left out`,
          );
        }
        // le Chat's activity as by_user_stats last read it: waited for at first, so that the first refresh can use it.
        await ctx.peers.tried('lechat_by_user', ctx.signal);
        const activity = sharedLechatActivity(ctx.peers.latest('lechat_by_user'));
        const snapshot: UsersSnapshot = {
          ...read,
          complete: pages.complete,
          activity,
          idleDays: seats.idleDays,
          unreadable: tally.result(),
        };
        const because = idleUnknownBecause(snapshot);
        if (because !== loggedBecause) {
          if (because !== undefined) ctx.logger.info({ api_endpoint: 'users' }, `mistral_seats_idle is left out: ${because}`);
          loggedBecause = because;
        }
        return snapshot;
      },
      toFamilies: (s) => usersFamilies(s, seats),
      toFamiliesSliced: (s) => runSliced(usersFamiliesSteps(s, seats)),
      unreadable: (s) => s.unreadable ?? {},
    };
  },
});
