/**
 * Pending invitations to the organization, as GET users lists them
 * (`OrganizationInviteOUT`: with `expired` and `created_at`) and as GET
 * users-invite does (`OrganizationUserInviteOUT[]`, a bare array, not paged:
 * `invite_uuid`, `email`, `roles`, `role`, no expiry). Both list the same
 * invitations, expired ones included ("pending": sent, not accepted).
 * Odd shapes: roles written as static role ids, a null `email` in users-invite.
 */
import type { SimOrg } from './org.js';
import { hash2, mulberry32, tag, uuidFrom } from './prng.js';
import { DAY_SECONDS, dayIndexOf, isoSeconds } from './time.js';
import type { JsonObject, UsageShapes } from './usage.js';

/** The static organization role ids of the schema (`StaticOrganizationRoles`), used in odd shapes. */
export const STATIC_ROLES = ['0d48f530-095c-43fe-8aea-6673bcacabe6', 'c955f4e1-9477-43f0-8349-6fbc629fccc9'];
/** How long an invitation stays valid (an assumption: the API does not publish it). */
export const INVITE_VALID_DAYS = 14;

export interface SimInvite {
  readonly uuid: string;
  readonly email: string;
  readonly raw_roles: readonly string[];
  readonly raw_role: string;
  readonly expired: boolean;
  readonly created_at: string;
  readonly workspace_uuids: readonly string[];
}

/** The invitations not accepted yet at `nowSeconds`: `size.users / 100` (at least 2), sent 0 to 29 days ago; expired after INVITE_VALID_DAYS. */
export function simInvites(org: SimOrg, nowSeconds: number, shapes: UsageShapes = {}): SimInvite[] {
  const count = Math.max(2, Math.round(org.size.users / 100));
  const today = dayIndexOf(nowSeconds) * DAY_SECONDS;
  return Array.from({ length: count }, (_, i) => {
    const draw = mulberry32(hash2(hash2(org.seed, tag('invite')), i));
    const uuid = uuidFrom(draw);
    const createdSeconds = Math.min(nowSeconds, today - ((i * 7) % 30) * DAY_SECONDS + Math.floor(draw() * DAY_SECONDS));
    const role = shapes.oddShapes && i % 2 === 1 ? (STATIC_ROLES[1] as string) : 'M';
    return {
      uuid,
      email: `sim.invitee${i}@example.com`,
      raw_roles: [role],
      raw_role: role,
      expired: nowSeconds - createdSeconds > INVITE_VALID_DAYS * DAY_SECONDS,
      created_at: isoSeconds(createdSeconds),
      workspace_uuids: i % 3 === 0 ? [org.workspaceIds[0] as string] : [],
    };
  });
}

/** GET users-invite (`OrganizationUserInviteOUT[]`): the same pending invitations, as a bare array, without `expired` nor `created_at`. */
export function usersInviteBody(org: SimOrg, nowSeconds: number, shapes: UsageShapes = {}): JsonObject[] {
  return simInvites(org, nowSeconds, shapes).map((i, n) => ({
    invite_uuid: i.uuid,
    email: shapes.oddShapes && n % 3 === 2 ? null : i.email,
    roles: [...i.raw_roles],
    role: i.raw_role,
  }));
}
