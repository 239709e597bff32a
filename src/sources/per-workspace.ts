import type { FamilyDef } from './families.js';

/**
 * Endpoints that take `workspace_id` (usage, Vibe Code by_workspace) are read
 * once per configured workspace, or once organization-wide when none is.
 */

/** Reads once per workspace of `workspaceIds` in parallel, or once with no workspace when the list is empty. */
export function perWorkspace<R>(workspaceIds: readonly string[], read: (workspaceId: string | undefined) => Promise<R>): Promise<R[]> {
  const targets: Array<string | undefined> = workspaceIds.length > 0 ? [...workspaceIds] : [undefined];
  return Promise.all(targets.map(read));
}

/** The `workspace_id` label of a workspace's series, or none for organization-wide figures. */
export function workspaceLabel(byWorkspace: boolean, workspaceId: string | undefined): Record<string, string> {
  return byWorkspace ? { workspace_id: workspaceId ?? '' } : {};
}

/** The family with a `workspace_id` label added when the figures are per workspace. */
export function withWorkspace(def: FamilyDef, byWorkspace: boolean): FamilyDef {
  return byWorkspace ? { ...def, labelNames: [...def.labelNames, 'workspace_id'] } : def;
}
