import { family, REFRESHED, type FamilyDef } from './families.js';
import { expectArray, expectObject, optionalString } from './parse.js';
import { defineEndpoint, ParseError, type MetricFamily, type Reader, type Unreadable } from './types.js';
import { readEach, UnreadableTally } from './unreadable.js';

/**
 * GET users-invite (beta, one answer, not paged): the organization's pending
 * invitations as a bare array of `{invite_uuid, email, roles, role}`. Unlike
 * the invitations GET users lists, these carry no `expired` flag nor date, so
 * this endpoint gives one count; `users` splits pending from expired. Emails
 * are never read.
 */
export interface InvitesSnapshot {
  /** Invitations listed, each once. */
  invites: number;
  unreadable?: Unreadable;
}

/** The number of distinct invitations of the answer; an item without an id is skipped and tallied. */
export function parseInvites(body: unknown, tally = new UnreadableTally()): number {
  const items = expectArray(body, 'users-invite');
  const ids = readEach(items, 'users-invite', tally, (raw, where) => {
    const inv = expectObject(raw, where);
    const id = optionalString(inv.invite_uuid, `${where}.invite_uuid`)?.trim();
    if (!id) throw new ParseError(`${where}.invite_uuid: missing`, 'missing');
    return id;
  });
  return new Set(ids).size;
}

export const INVITE_FAMILIES = {
  outstanding: {
    name: 'mistral_invites_outstanding',
    help: `Invitations to the organization sent and not accepted, as GET users-invite lists them (the API does not say there which have expired: see mistral_invites). ${REFRESHED}`,
    labelNames: [],
  },
} as const satisfies Record<string, FamilyDef>;

export function invitesFamilies(s: InvitesSnapshot): MetricFamily[] {
  return [family(INVITE_FAMILIES.outstanding, [{ labels: {}, value: s.invites }])];
}

export const usersInvite = defineEndpoint({
  id: 'users_invite',
  describe: 'GET users-invite',
  title: 'users-invite',
  paths: 'users-invite',
  intervalGroup: 'analytics',
  query: 'no parameters: one answer, not paged',
  perWorkspace: false,
  families: Object.values(INVITE_FAMILIES),
  reader: (): Reader<InvitesSnapshot> => ({
    async fetch(ctx) {
      const tally = new UnreadableTally();
      const invites = parseInvites((await ctx.get()).body, tally);
      return { invites, unreadable: tally.result() };
    },
    toFamilies: invitesFamilies,
    unreadable: (s) => s.unreadable ?? {},
  }),
});
