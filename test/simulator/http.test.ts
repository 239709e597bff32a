import { describe, expect, it } from 'vitest';
import { ANALYTICS_PATHS, type Layout, type SimEndpoint } from '../../src/simulator/index.js';
import { DAY_S, NOW_S, REQUIRED, asObject, getJson, missingFields, rowsOf, simulator, windowQuery } from './helpers.js';

const LAYOUTS: Layout[] = ['brief', 'legacy', 'current'];
const WINDOW = windowQuery(NOW_S - 7 * DAY_S, NOW_S);

/** Required item fields of each analytics endpoint's arrays. */
const ANALYTICS_ITEMS: Record<string, Record<string, readonly string[]>> = {
  lechat_by_user: { data: REQUIRED.VibeWorkByUserStat },
  lechat_by_agent: { data: REQUIRED.VibeWorkByAgentStat },
  lechat_by_time: { data: REQUIRED.VibeWorkByTimeStat },
  vibe_by_workspace: {
    sessions: REQUIRED.VibeSessionStat,
    user_prompts: REQUIRED.VibeUserPromptsStat,
    active_users: REQUIRED.VibeActiveUsersStat,
    consumed_tokens: REQUIRED.VibeConsumedTokensStat,
    tool_calls: REQUIRED.VibeToolCallsStat,
    tool_calls_by_name: REQUIRED.VibeToolCallsByNameStat,
    session_durations: REQUIRED.VibeSessionDurationStat,
  },
  vibe_by_organization: {
    next_edit_suggestions: REQUIRED.VibeNextEditSuggestionStat,
    next_edit_active_users: REQUIRED.VibeNextEditActiveUsersStat,
    next_edit_modified_loc: REQUIRED.VibeNextEditModifiedLOCStat,
  },
};

const TOP_LEVEL: Record<string, readonly string[]> = {
  lechat_by_user: REQUIRED.WindowOUT,
  lechat_by_agent: REQUIRED.WindowOUT,
  lechat_by_time: REQUIRED.WindowOUT,
  vibe_by_workspace: REQUIRED.VibeWorkspaceStatsOUT,
  vibe_by_organization: REQUIRED.VibeOrganizationStatsOUT,
};

describe('simulator over HTTP: paths and layouts', () => {
  for (const layout of LAYOUTS) {
    for (const [path, endpoint] of Object.entries(ANALYTICS_PATHS[layout])) {
      it(`${layout}: ${path} answers with the schema's required fields`, async () => {
        const sim = await simulator();
        const { status, body } = await getJson(`${sim.url}/${path}?${WINDOW}`);
        expect(status).toBe(200);
        expect(missingFields(body, TOP_LEVEL[endpoint]!)).toEqual([]);
        let items = 0;
        for (const [key, required] of Object.entries(ANALYTICS_ITEMS[endpoint]!)) {
          const rows = rowsOf(body, key);
          expect(rows.length, `${key} has rows`).toBeGreaterThan(0);
          for (const row of rows) expect(missingFields(row, required)).toEqual([]);
          items += rows.length;
        }
        expect(items).toBeGreaterThan(0);
        expect(sim.requests.at(-1)).toMatchObject({ method: 'GET', endpoint, status: 200 });
      });
    }
  }

  it('usage, spend-limit and rate-limit answer with the required fields', async () => {
    const sim = await simulator();
    const usage = asObject((await getJson(`${sim.url}/usage`)).body);
    expect(missingFields(usage, REQUIRED.UsageOUTJSON)).toEqual([]);
    expect(missingFields(usage['libraries_api'], REQUIRED.LibrariesAPIUsageDataJSON)).toEqual([]);
    expect(missingFields(usage['fine_tuning'], REQUIRED.FineTuningDataJSON)).toEqual([]);
    expect(missingFields(usage['vibe_code'], REQUIRED.VibeCodeUsageDataJSON)).toEqual([]);
    for (const key of ['completion', 'ocr', 'connectors', 'audio', 'audio_characters', 'chat'])
      expect(missingFields(usage[key], ['models'])).toEqual([]);
    expect(rowsOf(usage, 'prices').length).toBeGreaterThan(0);
    for (const row of rowsOf(usage, 'prices')) expect(missingFields(row, REQUIRED.PriceData)).toEqual([]);

    const spend = asObject((await getJson(`${sim.url}/spend-limit`)).body);
    expect(missingFields(spend, REQUIRED.LimitsOUT)).toEqual([]);
    expect(missingFields(spend['limits'], REQUIRED.LimitsContext)).toEqual([]);
    expect(missingFields(asObject(spend['limits'])['completion'], REQUIRED.UsageLimits)).toEqual([]);

    const rate = asObject((await getJson(`${sim.url}/rate-limit`)).body);
    expect(missingFields(rate, REQUIRED.RateLimitsOUT)).toEqual([]);
    expect(Number.isInteger(rate['requests_per_second'])).toBe(true);
    const byModel = asObject(rate['tokens_limits_by_model']);
    expect(Object.keys(byModel).length).toBeGreaterThan(0);
    for (const limits of Object.values(byModel)) expect(missingFields(limits, REQUIRED.TokenLimitsByModel)).toEqual([]);
  });

  it('serves only the chosen layouts; the others 404', async () => {
    const sim = await simulator({ layouts: ['current'] });
    expect((await getJson(`${sim.url}/analytics/vibe/work/usage/by_user_stats?${WINDOW}`)).status).toBe(200);
    expect((await getJson(`${sim.url}/analytics/vibe/code/usage/by_workspace?${WINDOW}`)).status).toBe(200);
    expect((await getJson(`${sim.url}/analytics/lechat/usage/by_user_stats?${WINDOW}`)).status).toBe(404);
    expect((await getJson(`${sim.url}/analytics/vibe/usage/by_user_stats?${WINDOW}`)).status).toBe(404);
    const legacyWorkspace = await getJson(`${sim.url}/analytics/vibe/usage/by_workspace?${WINDOW}`);
    expect(legacyWorkspace).toMatchObject({ status: 404, body: { detail: 'Not Found' } });
    expect((await getJson(`${sim.url}/usage`)).status).toBe(200);
  });

  it('answers unknown paths and paths outside the base path with 404 {"detail":"Not Found"}', async () => {
    const sim = await simulator({ basePath: '/v1/admin' });
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/admin$/);
    expect(await getJson(`${sim.url}/nope`)).toMatchObject({ status: 404, body: { detail: 'Not Found' } });
    const origin = new URL(sim.url).origin;
    expect((await getJson(`${origin}/api/admin/usage`)).status).toBe(404);
    expect((await getJson(`${origin}/usage`)).status).toBe(404);
    expect((await getJson(`${sim.url}/usage`)).status).toBe(200);
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH'])('answers %s with 405 and records it', async (method) => {
    const sim = await simulator();
    for (const path of ['usage', 'spend-limit', 'rate-limit', 'analytics/lechat/usage/by_user_stats']) {
      const response = await fetch(`${sim.url}/${path}`, {
        method,
        body: method === 'DELETE' ? null : '{"amount": 1}',
        headers: { 'content-type': 'application/json' },
      });
      await response.text();
      expect(response.status).toBe(405);
    }
    const nonGet = sim.requests.filter((r) => r.method !== 'GET');
    expect(nonGet.map((r) => [r.method, r.endpoint, r.status])).toEqual([
      [method, 'usage', 405],
      [method, 'spend_limit', 405],
      [method, 'rate_limit', 405],
      [method, 'lechat_by_user', 405],
    ]);
  });

  it('POST spend-limit changes nothing', async () => {
    const sim = await simulator();
    const before = (await getJson(`${sim.url}/spend-limit`)).body;
    const post = await fetch(`${sim.url}/spend-limit`, {
      method: 'POST',
      body: JSON.stringify({ amount: 1, no_monthly_limit: true }),
      headers: { 'content-type': 'application/json' },
    });
    await post.text();
    expect(post.status).toBe(405);
    expect((await getJson(`${sim.url}/spend-limit`)).body).toEqual(before);
    expect(asObject(asObject(asObject(before)['limits'])['completion'])['usage_limit']).toBe(5000);
  });

  it('requires the API key in x-api-key or Authorization: Bearer when one is set', async () => {
    const sim = await simulator({ apiKey: 'sekret-key' });
    const url = `${sim.url}/rate-limit`;
    expect(await getJson(url)).toMatchObject({ status: 401, body: { detail: 'Unauthorized' } });
    expect((await getJson(url, { headers: { 'x-api-key': 'wrong' } })).status).toBe(401);
    expect((await getJson(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await getJson(url, { headers: { authorization: 'sekret-key' } })).status).toBe(401);
    expect((await getJson(url, { headers: { 'x-api-key': 'sekret-key' } })).status).toBe(200);
    expect((await getJson(url, { headers: { authorization: 'Bearer sekret-key' } })).status).toBe(200);
    expect((await getJson(url, { headers: { 'x-api-key': 'wrong', authorization: 'Bearer sekret-key' } })).status).toBe(200);
    expect(sim.requests.map((r) => r.status)).toEqual([401, 401, 401, 401, 200, 200, 200]);
    expect(sim.requests[4]?.headers['x-api-key']).toBe('sekret-key');
  });

  it('accepts any request without a key when none is configured', async () => {
    const sim = await simulator();
    expect((await getJson(`${sim.url}/rate-limit`)).status).toBe(200);
  });

  it('records method, path, query and endpoint of every request', async () => {
    const sim = await simulator();
    await getJson(`${sim.url}/usage?month=05&year=2026&workspace_id=abc`);
    await getJson(`${sim.url}/missing`);
    expect(sim.requests).toHaveLength(2);
    expect(sim.requests[0]).toMatchObject({
      method: 'GET',
      path: '/api/admin/usage',
      query: { month: '05', year: '2026', workspace_id: 'abc' },
      endpoint: 'usage' satisfies SimEndpoint,
      status: 200,
    });
    expect(sim.requests[1]).toMatchObject({ path: '/api/admin/missing', status: 404 });
    expect(sim.requests[1]?.endpoint).toBeUndefined();
  });

  it('records nothing when told not to, as the demo and the CLI, which run for days, are', async () => {
    const sim = await simulator({ recordRequests: false });
    expect((await getJson(`${sim.url}/rate-limit`)).status).toBe(200);
    expect((await getJson(`${sim.url}/missing`)).status).toBe(404);
    expect(sim.requests).toEqual([]);
  });
});
