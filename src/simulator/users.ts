/**
 * GET users (`OrganizationAdminUsersOUT`, beta), written from the published
 * schema: the organization's members and pending invitations, a page at a
 * time (`page` from 1, `page_size` default 25). `total` counts members and
 * invitations together; a page holds the slice of [members..., invites...]
 * it covers, split into its `members` and `invites` arrays.
 *
 * The members are the simulated organization's users (`org.users`, the ones
 * le Chat and Vibe Code report activity for, with the same ids), plus a few
 * members who are not in le Chat's data: admins without any seat, and
 * people who joined in the last days with a le Chat seat they have not used
 * yet. Every user has a le Chat (`CHAT`) subscription, the Vibe Code users a
 * `MISTRAL_CODE` one too; a few subscriptions are cancelled (no access).
 * The dormant users (see org.ts) are the idle seats.
 *
 * Odd shapes (the `oddShapes` option), all allowed by the schema: `total`,
 * `page` and `page_size` null, `subscription_types` and `workspaces` null,
 * a subscription with `plan`, `status` and `member_has_access` null,
 * `API`/`LICENSE` subscriptions, roles written as static role ids, fields the
 * schema does not name.
 */
import type { SimOrg } from './org.js';
import { ORG_CREATED_SECONDS } from './org.js';
import { hash2, mulberry32, pickWeighted, tag, uuidFrom } from './prng.js';
import { simInvites, STATIC_ROLES } from './invites.js';
import { DAY_SECONDS, dayIndexOf, isoSeconds } from './time.js';
import type { JsonObject, UsageShapes } from './usage.js';
import { simWorkspaces } from './workspaces.js';

export interface SimSubscription {
  readonly type: 'API' | 'CHAT' | 'ON_PREMISE' | 'LICENSE' | 'MISTRAL_CODE';
  readonly plan: string | null;
  readonly status: string | null;
  readonly user: string | null;
  readonly self_service: boolean | null;
  readonly member_has_access: boolean | null;
}

/** One member as served, plus what the simulator knows about it. */
export interface SimMember {
  readonly uuid: string;
  readonly oid_id: string | null;
  readonly name: string | null;
  readonly email: string | null;
  readonly is_sso_outsider: boolean | null;
  readonly workspaces: JsonObject[] | null;
  readonly subscriptions: readonly SimSubscription[];
  readonly raw_roles: readonly string[];
  readonly raw_role: string;
  readonly subscription_types: ReadonlyArray<'CHAT' | 'MISTRAL_CODE'> | null;
  readonly created_at: string;
  /** Unix seconds of `created_at`. */
  readonly createdSeconds: number;
}

const CHAT_PLANS = ['TEAM', 'EDU', 'INDIVIDUAL'] as const;

function subscription(type: SimSubscription['type'], plan: string | null, active: boolean, userId: string, odd: boolean): SimSubscription {
  if (odd) return { type, plan: null, status: null, user: null, self_service: null, member_has_access: null };
  return { type, plan, status: active ? 'A' : 'C', user: userId, self_service: false, member_has_access: active };
}

function typesOf(subscriptions: readonly SimSubscription[]): Array<'CHAT' | 'MISTRAL_CODE'> {
  const types = new Set(subscriptions.map((s) => s.type));
  return (['CHAT', 'MISTRAL_CODE'] as const).filter((t) => types.has(t));
}

/** Members who are not in le Chat's data: `size.users / 50` admins without seats and as many recent joiners with an unused le Chat seat. */
function extraMembers(org: SimOrg): number {
  return Math.max(1, Math.round(org.size.users / 50));
}

/** The members who do not depend on the clock, per organization and shape: made once (60 ms for 2000 users). */
const settled = new WeakMap<SimOrg, Map<boolean, readonly SimMember[]>>();

/** Every member listed at `nowSeconds`, in a stable order: the org's users, then the seatless admins, then the recent joiners. */
export function simMembers(org: SimOrg, nowSeconds: number, shapes: UsageShapes = {}): readonly SimMember[] {
  const odd = shapes.oddShapes === true;
  const byShape = settled.get(org) ?? new Map<boolean, readonly SimMember[]>();
  settled.set(org, byShape);
  let members = byShape.get(odd);
  if (members === undefined) {
    members = settledMembers(org, odd);
    byShape.set(odd, members);
  }
  return [...members, ...joiners(org, nowSeconds)];
}

function settledMembers(org: SimOrg, odd: boolean): SimMember[] {
  const workspaces = simWorkspaces(org);
  const membership = (w: number): JsonObject => ({
    uuid: org.workspaceIds[w] as string,
    name: workspaces[w]?.name ?? '',
    is_default: w === 0,
    raw_roles: ['M'],
    raw_role: 'M',
  });
  const members: SimMember[] = org.users.map((user) => {
    // One PRNG per member: adding users never changes the existing ones.
    const random = mulberry32(hash2(hash2(org.seed, tag('member')), user.index));
    const oid = uuidFrom(random);
    const createdSeconds = ORG_CREATED_SECONDS + Math.floor(random() * 365 * DAY_SECONDS);
    const plan = CHAT_PLANS[pickWeighted([0.9, 0.05, 0.05], random())] as string;
    const chatActive = random() >= 0.04;
    const oddChat = odd && random() < 0.05;
    const subscriptions: SimSubscription[] = [subscription('CHAT', plan, chatActive, user.id, oddChat)];
    if (user.vibe !== null) subscriptions.push(subscription('MISTRAL_CODE', 'ENTERPRISE', random() >= 0.02, user.id, false));
    if (odd && user.index % 97 === 3) subscriptions.push(subscription('API', 'PAY_AS_YOU_GO', true, user.id, false));
    if (odd && user.index % 89 === 5) subscriptions.push(subscription('LICENSE', null, true, user.id, false));
    const admin = user.index % 50 === 0;
    const role = odd && user.index % 7 === 0 ? (STATIC_ROLES[admin ? 0 : 1] as string) : admin ? 'A' : 'M';
    const nullTypes = odd && user.index % 11 === 0;
    return {
      uuid: user.id,
      oid_id: user.index % 3 === 0 ? null : oid,
      name: `Sim Member ${user.index}`,
      email: `sim.member${user.index}@example.com`,
      is_sso_outsider: user.index % 5 === 0 ? null : false,
      workspaces: odd && user.index % 13 === 0 ? null : user.workspace < 0 ? [] : [membership(user.workspace)],
      subscriptions,
      raw_roles: [role],
      raw_role: role,
      subscription_types: nullTypes ? null : typesOf(subscriptions),
      created_at: isoSeconds(createdSeconds),
      createdSeconds,
    };
  });
  const random = mulberry32(hash2(org.seed, tag('extra-members')));
  for (let i = 0; i < extraMembers(org); i++) {
    const uuid = uuidFrom(random);
    const createdSeconds = ORG_CREATED_SECONDS + Math.floor(random() * 365 * DAY_SECONDS);
    members.push({
      uuid,
      oid_id: uuidFrom(random),
      name: `Sim Admin ${i}`,
      email: `sim.admin${i}@example.com`,
      is_sso_outsider: false,
      workspaces: [membership(0)],
      subscriptions: [],
      raw_roles: ['A'],
      raw_role: 'A',
      subscription_types: odd ? null : [],
      created_at: isoSeconds(createdSeconds),
      createdSeconds,
    });
  }
  return members;
}

/** People who joined 0 to 9 days before today, at a time of day of their own (never after now), with a le Chat seat they have not used. */
function joiners(org: SimOrg, nowSeconds: number): SimMember[] {
  const today = dayIndexOf(nowSeconds) * DAY_SECONDS;
  const members: SimMember[] = [];
  for (let i = 0; i < extraMembers(org); i++) {
    const draw = mulberry32(hash2(hash2(org.seed, tag('joiner')), i));
    const uuid = uuidFrom(draw);
    const createdSeconds = Math.min(nowSeconds, today - (i % 10) * DAY_SECONDS + Math.floor(draw() * DAY_SECONDS));
    const subscriptions = [subscription('CHAT', 'TEAM', true, uuid, false)];
    members.push({
      uuid,
      oid_id: uuidFrom(draw),
      name: `Sim Joiner ${i}`,
      email: `sim.joiner${i}@example.com`,
      is_sso_outsider: false,
      workspaces: [],
      subscriptions,
      raw_roles: ['M'],
      raw_role: 'M',
      subscription_types: typesOf(subscriptions),
      created_at: isoSeconds(createdSeconds),
      createdSeconds,
    });
  }
  return members;
}

export interface UsersQuery {
  /** 1-based. */
  readonly page: number;
  readonly pageSize: number;
  readonly email: string | undefined;
}

function memberOut({ createdSeconds: _created, ...m }: SimMember, odd: boolean): JsonObject {
  const out: JsonObject = { ...m, subscriptions: m.subscriptions.map((s) => ({ ...s })) } as unknown as JsonObject;
  if (odd) out.sso_groups = ['engineering'];
  return out;
}

export function usersBody(org: SimOrg, query: UsersQuery, nowSeconds: number, shapes: UsageShapes = {}): JsonObject {
  const odd = shapes.oddShapes === true;
  const needle = query.email?.toLowerCase();
  const members = simMembers(org, nowSeconds, shapes).filter((m) => needle === undefined || m.email?.toLowerCase() === needle);
  const invites = simInvites(org, nowSeconds, shapes).filter((i) => needle === undefined || i.email.toLowerCase() === needle);
  const start = (query.page - 1) * query.pageSize;
  const end = start + query.pageSize;
  return {
    members: members.slice(start, end).map((m) => memberOut(m, odd)),
    invites: invites
      .slice(Math.max(0, start - members.length), Math.max(0, end - members.length))
      .map((i) => ({ ...i, raw_roles: [...i.raw_roles], workspace_uuids: [...i.workspace_uuids] })),
    total: odd ? null : members.length + invites.length,
    page: odd ? null : query.page,
    page_size: odd ? null : query.pageSize,
  };
}
