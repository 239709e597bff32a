import type { Big } from 'big.js';
import { decimalToNumber, family, REFRESHED, type FamilyDef } from './families.js';
import { fetchPages } from './pages.js';
import { expectObject, optionalBoolean, optionalDecimal, optionalNumber, optionalString, UNKNOWN_CURRENCY, type Json } from './parse.js';
import type { Peers } from '../peers.js';
import { defineEndpoint, ParseError, type MetricFamily, type Reader, type Sample, type Unreadable } from './types.js';
import { readEach, UnreadableTally } from './unreadable.js';

/**
 * GET workspaces (beta, paginated): the organization's workspaces that are
 * not archived, their members and each one's own monthly spend limit (which
 * suspends only that workspace when reached).
 */
export interface WorkspaceRow {
  id: string;
  name: string;
  members: number | undefined;
  /** Absent when the API gives the workspace no spend limit object. */
  spendLimit: { value: Big | undefined; currency: string; noMonthlyLimit: boolean | undefined } | undefined;
}

export interface WorkspacesSnapshot {
  workspaces: WorkspaceRow[];
  unreadable?: Unreadable;
  /** Workspaces the API counts but the page cap left unread. */
  unread: number;
}

/** Most pages read per refresh, PAGE_SIZE workspaces each. */
const MAX_PAGES = 100;
const PAGE_SIZE = 100;

/** The readable workspaces of the listed items; an unreadable item is skipped and tallied. */
export function parseWorkspaces(items: readonly Json[], tally = new UnreadableTally()): WorkspaceRow[] {
  const rows = readEach(items, 'workspaces.items', tally, (raw, where): WorkspaceRow => {
    const w = expectObject(raw, where);
    const id = optionalString(w.uuid, `${where}.uuid`)?.trim();
    if (!id) throw new ParseError(`${where}.uuid: missing`, 'missing');
    const name = optionalString(w.name, `${where}.name`);
    if (name === undefined) throw new ParseError(`${where}.name: missing`, 'missing');
    const limit = w.spend_limit === null || w.spend_limit === undefined ? undefined : expectObject(w.spend_limit, `${where}.spend_limit`);
    return {
      id,
      name,
      members: optionalNumber(w.members_count, `${where}.members_count`),
      spendLimit: limit && {
        value: optionalDecimal(limit.value, `${where}.spend_limit.value`),
        currency: optionalString(limit.currency, `${where}.spend_limit.currency`)?.trim().toUpperCase() || UNKNOWN_CURRENCY,
        noMonthlyLimit: optionalBoolean(limit.no_monthly_limit, `${where}.spend_limit.no_monthly_limit`),
      },
    };
  });
  // A workspace that moved between two pages shows twice: keep the first.
  const seen = new Set<string>();
  return rows.filter((r) => !seen.has(r.id) && seen.add(r.id));
}

export const WORKSPACE_FAMILIES = {
  info: {
    name: 'mistral_workspace_info',
    help: `A workspace of the organization that is not archived (GET workspaces); always 1. Join workspace_name onto any series with workspace_id. ${REFRESHED}`,
    labelNames: ['workspace_id', 'workspace_name'],
  },
  members: {
    name: 'mistral_workspace_members',
    help: `Members of the workspace (members_count of GET workspaces); absent when the API does not say. ${REFRESHED}`,
    labelNames: ['workspace_id'],
  },
  spendLimit: {
    name: 'mistral_workspace_spend_limit',
    help: `The workspace's own monthly spend limit in whole currency units (spend_limit.value of GET workspaces); reaching it suspends that workspace only. Absent without a limit. ${REFRESHED}`,
    labelNames: ['workspace_id', 'currency'],
  },
  spendLimitEnabled: {
    name: 'mistral_workspace_spend_limit_enabled',
    help: `1 when the workspace has a monthly spend limit, 0 when no_monthly_limit is set (GET workspaces); absent when the API does not say. ${REFRESHED}`,
    labelNames: ['workspace_id'],
  },
} as const satisfies Record<string, FamilyDef>;

/** Pure: the workspaces metric families of a snapshot. */
export function workspacesFamilies(s: WorkspacesSnapshot): MetricFamily[] {
  const info: Sample[] = [];
  const members: Sample[] = [];
  const limits: Sample[] = [];
  const enabled: Sample[] = [];
  for (const w of s.workspaces) {
    const workspace_id = w.id;
    info.push({ labels: { workspace_id, workspace_name: w.name }, value: 1 });
    if (w.members !== undefined) members.push({ labels: { workspace_id }, value: w.members });
    const limit = w.spendLimit;
    if (limit === undefined) continue;
    const hasLimit = limit.noMonthlyLimit !== true && limit.value !== undefined;
    if (hasLimit) limits.push({ labels: { workspace_id, currency: limit.currency }, value: decimalToNumber(limit.value as Big) });
    // no_monthly_limit says it; else a value says there is a limit. A limit whose value is unknown is still enabled.
    const isEnabled = limit.noMonthlyLimit === undefined ? (limit.value === undefined ? undefined : true) : !limit.noMonthlyLimit;
    if (isEnabled !== undefined) enabled.push({ labels: { workspace_id }, value: isEnabled ? 1 : 0 });
  }
  const F = WORKSPACE_FAMILIES;
  return [family(F.info, info), family(F.members, members), family(F.spendLimit, limits), family(F.spendLimitEnabled, enabled)];
}

/** A workspace's own monthly spend limit, when it has one whose value is known. */
export interface WorkspaceLimit {
  value: Big;
  currency: string;
}

/**
 * What the workspaces reader shares with the readers that follow it
 * (MISTRAL_WORKSPACE_IDS=all, and the per-workspace spend ratio): the
 * workspaces listed (not archived) and their limits, those with a monthly
 * limit first, then in the order the API listed them: the order in which
 * MAX_WORKSPACES keeps them.
 */
export class WorkspacesDigest {
  constructor(readonly workspaces: ReadonlyArray<{ readonly id: string; readonly limit: WorkspaceLimit | undefined }>) {}
}

/** A workspace's limit as the spend ratio uses it: none when there is no monthly limit or its value is unknown. */
function limitOf(w: WorkspaceRow): WorkspaceLimit | undefined {
  const limit = w.spendLimit;
  if (limit === undefined || limit.noMonthlyLimit === true || limit.value === undefined) return undefined;
  return { value: limit.value, currency: limit.currency };
}

export function workspacesDigest(s: WorkspacesSnapshot): WorkspacesDigest {
  const all = s.workspaces.map((w) => ({ id: w.id, limit: limitOf(w) }));
  return new WorkspacesDigest([...all.filter((w) => w.limit !== undefined), ...all.filter((w) => w.limit === undefined)]);
}

/**
 * The workspaces GET workspaces listed at its last good refresh, while that
 * data is served (until MAX_STALENESS); undefined when the endpoint is not
 * read, has not answered yet, or its data was withdrawn.
 */
export function sharedWorkspaces(peers: Peers): WorkspacesDigest | undefined {
  const shared = peers.latest('workspaces');
  return shared instanceof WorkspacesDigest ? shared : undefined;
}

export const workspaces = defineEndpoint({
  id: 'workspaces',
  describe: 'GET workspaces',
  title: 'workspaces',
  paths: 'workspaces',
  intervalGroup: 'billing',
  query: `\`is_archived=false\`, \`page\`, \`page_size=${PAGE_SIZE}\`: every page, at most ${MAX_PAGES}`,
  perWorkspace: false,
  families: Object.values(WORKSPACE_FAMILIES),
  reader: (): Reader<WorkspacesSnapshot> => ({
    async fetch(ctx) {
      const pages = await fetchPages(ctx, 'workspaces', { pageSize: PAGE_SIZE, maxPages: MAX_PAGES, query: { is_archived: 'false' } });
      const tally = new UnreadableTally();
      const rows = parseWorkspaces(pages.items, tally);
      return { workspaces: rows, unread: pages.complete ? 0 : Math.max(0, pages.total - pages.items.length), unreadable: tally.result() };
    },
    toFamilies: workspacesFamilies,
    unreadable: (s) => s.unreadable ?? {},
    seriesDropped: (s) => ({ [WORKSPACE_FAMILIES.info.name]: s.unread }),
    share: workspacesDigest,
  }),
});
