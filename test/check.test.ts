import { describe, expect, it } from 'vitest';
import { AdminApiError } from '../src/admin-api/types.js';
import { Anonymizer } from '../src/anonymize.js';
import { answerFileName, checkPassed, formatCheck, type CheckReport, type CheckResult } from '../src/check.js';
import type { ApiEndpoint } from '../src/endpoints.js';
import { ParseError } from '../src/sources/types.js';

function result(endpoint: ApiEndpoint, fields: Partial<CheckResult> = {}): CheckResult {
  return {
    endpoint,
    path: endpoint.replace(/_/g, '-'),
    retries: 0,
    answers: [{ query: {}, response: { body: {}, status: 200, path: endpoint } }],
    series: 5,
    unreadable: {},
    error: undefined,
    notes: [],
    ...fields,
  };
}

/** A result that failed before any answer was read. */
function failed(endpoint: ApiEndpoint, error: unknown, fields: Partial<CheckResult> = {}): CheckResult {
  return result(endpoint, { answers: [], series: undefined, unreadable: undefined, error, ...fields });
}

const REPORT: CheckReport = {
  apiUrl: 'https://admin.example.test/api/admin',
  pathLayout: 'auto',
  demo: false,
  results: [
    result('spend_limit', { series: 8 }),
    result('usage', {
      series: 84,
      unreadable: {
        missing: { count: 2, example: 'usage.completion.models.m.input[0].value: missing' },
        not_a_number: { count: 1, example: 'usage.completion.models.m.output[3].value: not a number' },
      },
    }),
    result('rate_limit', { series: undefined, unreadable: undefined, error: new ParseError('rate limit: expected an object, got a list') }),
    failed(
      'workspaces',
      new AdminApiError('workspaces', 'http', 'workspaces answered HTTP 401: {"detail":"Unauthorized"}', { status: 401 }),
      {
        path: 'workspaces',
      },
    ),
    failed(
      'vibe_by_workspace',
      new AdminApiError('vibe_by_workspace', 'http', 'analytics/vibe/usage/by_workspace answered HTTP 403: {"detail":"Forbidden"}', {
        status: 403,
        path: 'analytics/vibe/usage/by_workspace',
      }),
      { path: 'analytics/vibe/usage/by_workspace' },
    ),
    failed('lechat_by_time', new AdminApiError('lechat_by_time', 'not_found', 'every known path answered 404 (a, b, c)', { status: 404 }), {
      path: undefined,
    }),
    failed(
      'lechat_by_agent',
      new AdminApiError('lechat_by_agent', 'network', 'request to x failed: CERT_HAS_EXPIRED certificate has expired', {
        path: 'analytics/lechat/usage/by_agent_stats',
        code: 'CERT_HAS_EXPIRED',
      }),
      { path: 'analytics/lechat/usage/by_agent_stats' },
    ),
    failed(
      'lechat_by_user',
      new AdminApiError('lechat_by_user', 'network', 'request to x failed: ECONNRESET other side closed', {
        path: 'analytics/lechat/usage/by_user_stats',
        code: 'ECONNRESET',
      }),
      { path: 'analytics/lechat/usage/by_user_stats', retries: 3 },
    ),
  ],
};

describe("check's table", () => {
  const text = formatCheck(REPORT);
  const lines = text.split('\n');
  const row = (endpoint: string) => {
    const line = lines.find((l) => l.split(/\s+/)[1] === endpoint);
    if (line === undefined) throw new Error(`no row for ${endpoint} in\n${text}`);
    return line.split(/\s{2,}/);
  };

  it('names the base URL, then one aligned row per endpoint: result, endpoint, path, status, series, skipped, refused', () => {
    expect(lines[0]).toBe('Admin API: https://admin.example.test/api/admin (path layout auto)');
    const table = lines.slice(2, 2 + 1 + REPORT.results.length);
    expect(table[0]?.split(/\s{2,}/)).toEqual(['RESULT', 'ENDPOINT', 'PATH', 'STATUS', 'SERIES', 'SKIPPED', 'REFUSED']);
    // Aligned: each column starts at the same offset on every line.
    const starts = (line: string) => [...line.matchAll(/(?:^|\s{2})(\S)/g)].map((m) => (m.index ?? 0) + m[0].length - 1);
    const headerStarts = starts(table[0] ?? '');
    for (const line of table) for (const s of starts(line)) expect(headerStarts).toContain(s);
    expect(table.every((l) => l === l.trimEnd())).toBe(true);
  });

  it('an endpoint read whole is ok, with its status and series', () => {
    expect(row('spend_limit')).toEqual(['ok', 'spend_limit', 'spend-limit', '200', '8', '0', 'no']);
  });

  it('skipped entries: counted by reason, the row PARTIAL, and the first one shown with what to do', () => {
    expect(row('usage')).toEqual(['PARTIAL', 'usage', 'usage', '200', '84', 'missing 2, not_a_number 1', 'no']);
    expect(text).toContain(
      '  usage: 3 entries of the answer could not be read and were left out (the rest is served): run check --save-answers DIR and attach the files to a bug report\n' +
        '    (first: usage.completion.models.m.input[0].value: missing)',
    );
  });

  it('a refused answer: its reason, no series, and the parse error', () => {
    expect(row('rate_limit')).toEqual(['FAILED', 'rate_limit', 'rate-limit', '200', '-', '-', 'wrong_type']);
    expect(text).toContain('  rate_limit: the answer could not be understood, so a start would serve no data of this endpoint');
    expect(text).toContain('    (rate limit: expected an object, got a list)');
  });

  it('401 names the key, with the wording of the log lines', () => {
    expect(row('workspaces')).toEqual(['FAILED', 'workspaces', 'workspaces', '401', '-', '-', '-']);
    expect(text).toContain('  workspaces: the Admin API rejected the key (401): check MISTRAL_ADMIN_API_KEY\n');
  });

  it('403 names the scope or the plan, and for an analytics endpoint how to leave it out', () => {
    expect(row('vibe_by_workspace')).toEqual(['FAILED', 'vibe_by_workspace', 'analytics/vibe/usage/by_workspace', '403', '-', '-', '-']);
    expect(text).toContain(
      '  vibe_by_workspace: the Admin API refused access (403): the key may lack admin scope, or the plan this feature; ' +
        'an organization without Vibe Code can leave vibe_by_workspace out of MISTRAL_ENDPOINTS\n',
    );
  });

  it('403 on api-keys (a key without that scope) says the other endpoints are read, and how to leave it out', () => {
    const forbidden = new AdminApiError('api_keys', 'http', 'api-keys answered HTTP 403: {"detail":"Forbidden"}', {
      status: 403,
      path: 'api-keys',
    });
    const out = formatCheck({
      ...REPORT,
      results: [result('spend_limit', { series: 8 }), failed('api_keys', forbidden, { path: 'api-keys' })],
    });
    expect(out).toContain(
      '  api_keys: the Admin API refused access (403): the key may lack admin scope, or the plan this feature; ' +
        'a key not allowed to list API keys can leave api_keys out of MISTRAL_ENDPOINTS (the rest is read)\n',
    );
  });

  it('404 on every path names the URL and the layout', () => {
    expect(row('lechat_by_time')).toEqual(['FAILED', 'lechat_by_time', '(none answered)', '404', '-', '-', '-']);
    expect(text).toContain(
      '  lechat_by_time: no known path answered (404): check MISTRAL_ADMIN_API_URL and MISTRAL_ADMIN_API_PATH_LAYOUT\n',
    );
  });

  it('a network error shows its code as the status; TLS names NODE_EXTRA_CA_CERTS, others the proxy settings', () => {
    expect(row('lechat_by_agent')).toEqual([
      'FAILED',
      'lechat_by_agent',
      'analytics/lechat/usage/by_agent_stats',
      'CERT_HAS_EXPIRED',
      '-',
      '-',
      '-',
    ]);
    expect(text).toMatch(
      / {2}lechat_by_agent: the TLS certificate of admin\.example\.test did not verify \(CERT_HAS_EXPIRED\): .*NODE_EXTRA_CA_CERTS/,
    );
    expect(row('lechat_by_user')[3]).toBe('ECONNRESET (3 retries)');
    expect(text).toMatch(
      / {2}lechat_by_user: the connection to admin\.example\.test failed \(ECONNRESET\): check MISTRAL_ADMIN_API_URL, HTTPS_PROXY\/NO_PROXY/,
    );
  });

  it('counts the endpoints with a problem; check passes only when there is none', () => {
    expect(text).toContain('\n7 of 8 endpoints have a problem.\n');
    expect(checkPassed(REPORT.results)).toBe(false);
    expect(checkPassed(REPORT.results.slice(0, 1))).toBe(true);
    expect(checkPassed([REPORT.results[1] as CheckResult])).toBe(false); // skipped entries fail check too
  });

  it('when every endpoint is read whole it says so, and has no "What to do"', () => {
    const ok = formatCheck({ ...REPORT, demo: true, results: [result('spend_limit'), result('usage')] });
    expect(ok).toContain('(the built-in simulator, --demo: simulated data)');
    expect(ok).toContain('\nEvery endpoint answered and was read whole (2 of 2).\n');
    expect(ok).not.toContain('What to do');
  });

  it('the same advice for every endpoint (a wrong URL) is given once', () => {
    const refused = (e: ApiEndpoint) =>
      failed(e, new AdminApiError(e, 'network', `request to ${e} failed: ECONNREFUSED`, { code: 'ECONNREFUSED', path: e }));
    const text = formatCheck({ ...REPORT, results: [refused('spend_limit'), refused('usage')] });
    expect(text.match(/refused the connection/g)).toHaveLength(1);
    expect(text).toContain('  every endpoint: admin.example.test refused the connection: check the host and port of MISTRAL_ADMIN_API_URL');
    expect(text).toContain('\n2 of 2 endpoints have a problem.\n');
  });

  it('lists what the sources warned about as notes, which do not fail check', () => {
    const noted = [result('usage', { notes: ['usage entries with no matching unit price: their cost is left out (category=ocr)'] })];
    expect(formatCheck({ ...REPORT, results: noted })).toContain(
      '\n  usage: usage entries with no matching unit price: their cost is left out (category=ocr)\n',
    );
    expect(checkPassed(noted)).toBe(true);
  });
});

describe('the files of --save-answers', () => {
  it('are named by endpoint, then workspace placeholder, window and page, never twice the same', () => {
    const anonymizer = new Anonymizer([]);
    const taken = new Set<string>();
    const name = (endpoint: string, query: Record<string, string | number>) => answerFileName(endpoint, query, anonymizer, taken);
    expect(name('usage', { month: 11, year: 2026 })).toBe('usage.json');
    expect(name('usage', { month: 11, year: 2026, workspace_id: 'ws-secret' })).toBe('usage-workspace-id-0001.json');
    expect(name('lechat_by_user', { start_time: 1000, end_time: 1000 + 7 * 86_400 })).toBe('lechat_by_user-7d.json');
    expect(name('lechat_by_user', { start_time: 1000, end_time: 4600 })).toBe('lechat_by_user-3600s.json');
    expect(name('workspaces', { page: 1, page_size: 100 })).toBe('workspaces.json');
    expect(name('workspaces', { page: 2, page_size: 100 })).toBe('workspaces-page2.json');
    expect(name('usage', {})).toBe('usage-2.json');
  });
});
