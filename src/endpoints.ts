/**
 * Where each Admin API endpoint lives. Mistral's own sources disagree on the
 * analytics paths; three layouts are known (shared reference,
 * admin-api/README.md). In `auto` the client tries them in this order on a
 * 404 and keeps the first that answers. Each endpoint declares its paths in
 * its own module (src/sources/); the catalog lists them.
 */
import { endpointOf, type ApiEndpoint } from './sources/catalog.js';

export { API_ENDPOINTS, type ApiEndpoint } from './sources/catalog.js';

export const PATH_LAYOUTS = ['brief', 'legacy', 'current'] as const;
export type PathLayout = (typeof PATH_LAYOUTS)[number];

/**
 * The distinct paths to try for `endpoint`, most likely first. With a pinned
 * layout there is exactly one.
 */
export function pathCandidates(endpoint: ApiEndpoint, layout: PathLayout | 'auto'): string[] {
  const { paths } = endpointOf(endpoint);
  if (typeof paths === 'string') return [paths];
  if (layout !== 'auto') return [paths[layout]];
  return [...new Set(PATH_LAYOUTS.map((l) => paths[l]))];
}
