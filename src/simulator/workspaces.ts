/**
 * GET workspaces (`WorkspacesOut`, beta), written from the published schema:
 * the organization's workspaces, a page at a time. The workspaces usage and
 * Vibe Code report (`org.workspaceIds`) are the active ones; one more, archived,
 * is listed only with `is_archived=true`. The schema lets `members_count` and
 * `spend_limit` be null, and each field of a spend limit too: the simulated
 * workspaces cover a limit, no monthly limit, and no spend limit object.
 */
import { CURRENCY } from './catalog.js';
import type { SimOrg } from './org.js';
import { hash2, mulberry32, tag, uuidFrom } from './prng.js';
import type { JsonObject } from './usage.js';

const NAMES = ['Product Team', 'Platform', 'Research', 'Support', 'Finance', 'Data'];

export interface SimWorkspace {
  readonly uuid: string;
  readonly name: string;
  readonly description: string | null;
  readonly icon: string | null;
  readonly members_count: number | null;
  readonly spend_limit: { value: number | null; currency: string | null; no_monthly_limit: boolean | null } | null;
  readonly is_default: boolean;
  readonly archived: boolean;
}

/**
 * What a test changed in the organization's workspaces since it started:
 * workspaces created (listed after the seeded ones) and workspaces archived.
 * An added workspace has no usage (GET usage answers it empty).
 */
export interface WorkspaceChanges {
  readonly added: SimWorkspace[];
  readonly archived: Set<string>;
}

export function noWorkspaceChanges(): WorkspaceChanges {
  return { added: [], archived: new Set() };
}

/** A new workspace, as `Simulator.addWorkspace` creates it. */
export function newWorkspace(
  org: SimOrg,
  changes: WorkspaceChanges,
  o: { name: string; spendLimit: number | null; currency?: string },
): SimWorkspace {
  const random = mulberry32(hash2(org.seed, tag(`added-workspace-${changes.added.length}`)));
  return {
    uuid: uuidFrom(random),
    name: o.name,
    description: null,
    icon: null,
    members_count: 0,
    spend_limit:
      o.spendLimit === null
        ? { value: null, currency: null, no_monthly_limit: true }
        : { value: o.spendLimit, currency: o.currency ?? CURRENCY, no_monthly_limit: false },
    is_default: false,
    archived: false,
  };
}

/** Every workspace of the organization, the seeded archived one last. */
export function simWorkspaces(org: SimOrg, changes: WorkspaceChanges = noWorkspaceChanges()): SimWorkspace[] {
  const seeded = seededWorkspaces(org);
  const all = [...seeded.slice(0, -1), ...changes.added, ...seeded.slice(-1)];
  return all.map((w) => (changes.archived.has(w.uuid) ? { ...w, archived: true } : w));
}

function seededWorkspaces(org: SimOrg): SimWorkspace[] {
  const active = org.workspaceIds.map((uuid, i): SimWorkspace => {
    const round = Math.floor(i / NAMES.length);
    const name = `${NAMES[i % NAMES.length]}${round > 0 ? ` ${round + 1}` : ''}`;
    const limits: SimWorkspace['spend_limit'][] = [
      { value: 1500 + 500 * i, currency: CURRENCY, no_monthly_limit: false },
      { value: null, currency: null, no_monthly_limit: true },
      null,
    ];
    return {
      uuid,
      name,
      description: i % 2 === 0 ? `Workspace of the ${name} team` : null,
      icon: i === 0 ? '★' : null,
      members_count: org.users.filter((u) => u.workspace === i).length,
      spend_limit: limits[i % limits.length] ?? null,
      is_default: i === 0,
      archived: false,
    };
  });
  const archived: SimWorkspace = {
    uuid: uuidFrom(mulberry32(hash2(org.seed, tag('archived-workspace')))),
    name: 'Old Pilot',
    description: null,
    icon: null,
    members_count: 0,
    spend_limit: null,
    is_default: false,
    archived: true,
  };
  return [...active, archived];
}

export interface WorkspacesQuery {
  /** 1-based. */
  readonly page: number;
  readonly pageSize: number;
  readonly includeArchived: boolean;
}

export function workspacesBody(org: SimOrg, query: WorkspacesQuery, changes?: WorkspaceChanges): JsonObject {
  const all = simWorkspaces(org, changes).filter((w) => query.includeArchived || !w.archived);
  const start = (query.page - 1) * query.pageSize;
  return {
    total: all.length,
    items: all
      .slice(start, start + query.pageSize)
      .map(({ archived: _archived, ...w }) => ({ ...w, spend_limit: w.spend_limit && { ...w.spend_limit } })),
    object: 'list',
    page: query.page,
    page_size: query.pageSize,
  };
}
