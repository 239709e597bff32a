import { PeerUnavailable } from '../peers.js';
import type { FamilyDef } from './families.js';
import type { FetchContext, ReaderOptions } from './types.js';
import { sharedWorkspaces, type WorkspaceLimit } from './workspaces.js';

/**
 * Endpoints that take `workspace_id` (usage, Vibe Code by_workspace) are read
 * once per workspace of MISTRAL_WORKSPACE_IDS, or once organization-wide when
 * none is set. With `all` they follow the workspaces GET workspaces lists.
 */

/** The workspaces one refresh reads, decided at fetch time and kept in the reader's snapshot. */
export interface WorkspaceTargets {
  /** False: read once organization-wide (no workspace_id label). */
  byWorkspace: boolean;
  /** The workspaces read, when byWorkspace. */
  ids: readonly string[];
  /** Each read workspace's monthly limit as GET workspaces last listed it; a workspace without one has no entry. */
  limits: ReadonlyMap<string, WorkspaceLimit>;
  /** With `all`: workspaces listed beyond MAX_WORKSPACES, and how many of them have a monthly limit. */
  notFollowed: { workspaces: number; withLimit: number };
}

const NONE_LEFT_OUT = { workspaces: 0, withLimit: 0 } as const;

/**
 * The workspaces to read now. An explicit list is read as given, with the
 * limits the workspaces endpoint shared, if any (it is not waited for). With
 * `all`, this waits for the workspaces endpoint's first try and follows what
 * it last listed (its last good list, while served): at most
 * MAX_WORKSPACES, those with a limit first. When it has no list to give, the
 * refresh fails (PeerUnavailable) rather than read organization-wide figures
 * in its place.
 */
export async function workspaceTargets(
  ctx: Pick<FetchContext, 'peers' | 'signal'>,
  { workspaceIds, maxWorkspaces }: Pick<ReaderOptions, 'workspaceIds' | 'maxWorkspaces'>,
): Promise<WorkspaceTargets> {
  if (workspaceIds !== 'all') {
    const digest = sharedWorkspaces(ctx.peers);
    const listed = new Set(workspaceIds);
    const limits = new Map(
      (digest?.workspaces ?? []).flatMap((w) => (listed.has(w.id) && w.limit !== undefined ? [[w.id, w.limit] as const] : [])),
    );
    return { byWorkspace: workspaceIds.length > 0, ids: workspaceIds, limits, notFollowed: NONE_LEFT_OUT };
  }
  await ctx.peers.tried('workspaces', ctx.signal);
  const digest = sharedWorkspaces(ctx.peers);
  if (digest === undefined) {
    throw new PeerUnavailable(
      'MISTRAL_WORKSPACE_IDS=all, and GET workspaces has no list of workspaces to follow (it has not answered, or its last good list is older than MAX_STALENESS); organization-wide figures are not read in its place',
    );
  }
  const followed = digest.workspaces.slice(0, maxWorkspaces);
  const left = digest.workspaces.slice(maxWorkspaces);
  const limits = new Map(followed.flatMap((w) => (w.limit === undefined ? [] : [[w.id, w.limit] as const])));
  return {
    byWorkspace: true,
    ids: followed.map((w) => w.id),
    limits,
    notFollowed: { workspaces: left.length, withLimit: left.filter((w) => w.limit !== undefined).length },
  };
}

/**
 * The workspaces of MISTRAL_WORKSPACE_IDS for the one-shot commands (backfill,
 * focus), which read no GET workspaces and so cannot follow `all`: they say so
 * rather than read organization-wide figures in its place.
 */
export function listedTargets(workspaceIds: readonly string[] | 'all', command: string): WorkspaceTargets {
  if (workspaceIds === 'all') {
    throw new Error(
      `${command} does not follow MISTRAL_WORKSPACE_IDS=all: list the workspace ids, or leave it unset for organization-wide figures`,
    );
  }
  return { byWorkspace: workspaceIds.length > 0, ids: workspaceIds, limits: new Map(), notFollowed: NONE_LEFT_OUT };
}

/** Reads once per workspace of `targets` in parallel, or once with no workspace when not by workspace. */
export function perWorkspace<R>(targets: WorkspaceTargets, read: (workspaceId: string | undefined) => Promise<R>): Promise<R[]> {
  return Promise.all(targets.byWorkspace ? targets.ids.map(read) : [read(undefined)]);
}

/** Logs, once per count, the workspaces MAX_WORKSPACES left out of `all`. */
export function reportNotFollowed(
  reportOnce: (logger: FetchContext['logger'], key: string, fields: Record<string, unknown>, message: string) => void,
  ctx: Pick<FetchContext, 'logger'>,
  endpoint: string,
  targets: WorkspaceTargets,
): void {
  const { workspaces, withLimit } = targets.notFollowed;
  if (workspaces === 0) return;
  reportOnce(
    ctx.logger,
    `not-followed:${workspaces}:${withLimit}`,
    { api_endpoint: endpoint, followed: targets.ids.length, not_followed: workspaces, not_followed_with_limit: withLimit },
    'MISTRAL_WORKSPACE_IDS=all lists more workspaces than MAX_WORKSPACES: those beyond it are not read (see mistral_exporter_series_dropped)',
  );
}

/** The `workspace_id` label of a workspace's series, or none for organization-wide figures. */
export function workspaceLabel(byWorkspace: boolean, workspaceId: string | undefined): Record<string, string> {
  return byWorkspace ? { workspace_id: workspaceId ?? '' } : {};
}

/** The family with a `workspace_id` label added when the figures are per workspace. */
export function withWorkspace(def: FamilyDef, byWorkspace: boolean): FamilyDef {
  return byWorkspace ? { ...def, labelNames: [...def.labelNames, 'workspace_id'] } : def;
}
