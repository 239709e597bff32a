/**
 * What to do about a failed read of an Admin API endpoint: one wording for
 * the log lines, `check`'s report and the status page alike.
 */
import { PeerUnavailable } from './peers.js';
import { isTlsFailure } from './admin-api/client.js';
import { AdminApiError } from './admin-api/types.js';
import type { ApiEndpoint } from './endpoints.js';
import { ParseError } from './sources/types.js';

/** What a refusal means and what to set. */
export const ADVICE = {
  unauthorized: 'the Admin API rejected the key (401): check MISTRAL_ADMIN_API_KEY',
  forbidden: 'the Admin API refused access (403): the key may lack admin scope, or the plan this feature',
  notFound: 'no known path answered (404): check MISTRAL_ADMIN_API_URL and MISTRAL_ADMIN_API_PATH_LAYOUT',
  tooLarge: 'the answer is larger than MAX_RESPONSE_SIZE',
  rateLimited: 'rate limited by the Admin API (429)',
} as const;

export interface AdviceContext {
  endpoint: ApiEndpoint;
  /** The base URL: a network error's advice names its host. */
  apiUrl: string;
  /**
   * Who reads it: `check`, run by hand (a passing problem: "try again"), or
   * the running exporter, which tries again by itself at its next refresh.
   */
  reader: 'check' | 'exporter';
  /** check --save-answers DIR, when given: where the answers to attach to a bug report are. */
  saveAnswers?: string | undefined;
}

const PRODUCTS: ReadonlyArray<[prefix: string, product: string]> = [
  ['lechat_', 'le Chat'],
  ['vibe_', 'Vibe Code'],
  ['audit_', 'access to the audit log'],
];

export function hostOf(apiUrl: string): string {
  try {
    return new URL(apiUrl).host;
  } catch {
    return apiUrl;
  }
}

/** Where to find the answers that show a problem, for a bug report. */
export const attachAnswers = (dir: string | undefined): string =>
  dir === undefined
    ? 'run check --save-answers DIR and attach the files to a bug report'
    : `attach the files of ${dir} to a bug report (ids, names and emails are replaced; look them over first)`;

/** A network error's advice, by its code. */
function networkAdvice(code: string | undefined, host: string): string {
  if (code !== undefined && isTlsFailure(code)) {
    return (
      `the TLS certificate of ${host} did not verify (${code}): behind a proxy that inspects TLS, ` +
      'point NODE_EXTRA_CA_CERTS at its CA certificate (a PEM file); else check the scheme, host and port of MISTRAL_ADMIN_API_URL'
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return (
      `the host name ${host} was not found (${code}): check MISTRAL_ADMIN_API_URL; ` +
      'where only a proxy reaches the internet, set HTTPS_PROXY (and NO_PROXY for hosts reached directly)'
    );
  }
  if (code === 'ECONNREFUSED') {
    return `${host} refused the connection: check the host and port of MISTRAL_ADMIN_API_URL, and HTTPS_PROXY/NO_PROXY if a proxy is in the way`;
  }
  return (
    `the connection to ${host} failed${code === undefined ? '' : ` (${code})`}: check MISTRAL_ADMIN_API_URL, ` +
    'HTTPS_PROXY/NO_PROXY, and NODE_EXTRA_CA_CERTS if a proxy inspects TLS'
  );
}

/** What to do about `err`, thrown by a read of `ctx.endpoint`. */
export function adviceFor(err: unknown, ctx: AdviceContext): string {
  const byHand = ctx.reader === 'check';
  if (err instanceof ParseError) {
    return byHand
      ? `the answer could not be understood, so a start would serve no data of this endpoint: ${attachAnswers(ctx.saveAnswers)}`
      : `the answer could not be understood (the last good data is served until MAX_STALENESS): ${attachAnswers(ctx.saveAnswers)}`;
  }
  if (err instanceof PeerUnavailable)
    return `it follows another endpoint, which gave nothing to follow: see that ${byHand ? 'row' : 'endpoint'}`;
  if (!(err instanceof AdminApiError)) return 'reading failed unexpectedly: please report it';
  switch (err.kind) {
    case 'http': {
      if (err.status === 401) return ADVICE.unauthorized;
      if (err.status === 403) {
        const product = PRODUCTS.find(([prefix]) => ctx.endpoint.startsWith(prefix))?.[1];
        const leaveOut =
          product !== undefined
            ? `; an organization without ${product} can leave ${ctx.endpoint} out of MISTRAL_ENDPOINTS`
            : ctx.endpoint === 'api_keys'
              ? '; a key not allowed to list API keys can leave api_keys out of MISTRAL_ENDPOINTS (the rest is read)'
              : ctx.endpoint === 'users' || ctx.endpoint === 'users_invite'
                ? `; a key not allowed to list members and invitations can leave ${ctx.endpoint} out of MISTRAL_ENDPOINTS (the rest is read)`
                : '';
        return `${ADVICE.forbidden}${leaveOut}`;
      }
      if (err.status === 422 && ctx.endpoint === 'audit_events') {
        return 'the Admin API refused the query (422): check that each name of AUDIT_EVENT_TYPES is one of its event types';
      }
      if (err.status !== undefined && err.status >= 500) {
        return byHand
          ? 'the Admin API is failing: try again later'
          : 'the Admin API is failing on its side: nothing to change here; it is tried again at the next refresh';
      }
      return `the Admin API did not accept the request: ${attachAnswers(ctx.saveAnswers)}`;
    }
    case 'not_found':
      return ADVICE.notFound;
    case 'rate_limited':
      return byHand
        ? `${ADVICE.rateLimited}: try again later, or lower MAX_CONCURRENT_REQUESTS`
        : `${ADVICE.rateLimited}: it is tried again later; if it lasts, lengthen the refresh intervals or lower MAX_CONCURRENT_REQUESTS`;
    case 'too_large':
      return `${ADVICE.tooLarge}: raise it`;
    case 'invalid_json':
      return 'the answer is not JSON: check that MISTRAL_ADMIN_API_URL is the Admin API, not a proxy or a login page (and HTTPS_PROXY)';
    case 'timeout':
      return 'no answer in time: check that MISTRAL_ADMIN_API_URL is reachable from here (a firewall, or a proxy: HTTPS_PROXY/NO_PROXY), or raise REQUEST_TIMEOUT';
    case 'network':
      return networkAdvice(err.details.code, hostOf(ctx.apiUrl));
    case 'aborted':
      return byHand
        ? 'gave up before an answer came: try again, or raise REQUEST_TIMEOUT'
        : 'the refresh ran out of time before an answer came: if it lasts, raise REQUEST_TIMEOUT or the refresh interval';
  }
}
