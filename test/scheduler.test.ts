import { describe, expect, it } from 'vitest';
import { AdminApiError, type AdminApi, type ApiResponse, type GetOptions } from '../src/admin-api/types.js';
import type { ApiEndpoint } from '../src/endpoints.js';
import { MAX_RETRY_AFTER_MS, Scheduler } from '../src/scheduler.js';
import { createSources } from '../src/sources/catalog.js';
import { captureLogs } from './support/logs.js';
import { ManualClock, settle } from './support/manual-clock.js';
import { readerOptions } from './support/readers.js';
import type { Source } from '../src/sources/types.js';

type Answer = (options: GetOptions | undefined) => Promise<ApiResponse> | ApiResponse;

/** An AdminApi whose answers the test scripts per endpoint. */
class ScriptedApi implements AdminApi {
  readonly calls: ApiEndpoint[] = [];
  answers = new Map<ApiEndpoint, Answer>();

  async get(endpoint: ApiEndpoint, options?: GetOptions): Promise<ApiResponse> {
    this.calls.push(endpoint);
    const answer = this.answers.get(endpoint);
    if (!answer) throw new Error(`no answer scripted for ${endpoint}`);
    return answer(options);
  }

  count(endpoint: ApiEndpoint): number {
    return this.calls.filter((c) => c === endpoint).length;
  }
}

const ok =
  (body: unknown): Answer =>
  () => ({ body, status: 200, path: 'x' });
const fail =
  (err: () => Error): Answer =>
  () => {
    throw err();
  };
const spendBody = (usage: number) => ({
  limits: { completion: { monthly_limit_reached: false, usage, usage_limit: 1000 }, last_payment_failure: false, currency: 'EUR' },
});
const rateBody = { requests_per_second: 5, tokens_limits_by_model: { m: { tokens_per_minute: 1, tokens_per_month: 2 } } };

const MIN = 60_000;

function setup(options: { maxStalenessMs?: number; random?: () => number } = {}) {
  const clock = new ManualClock();
  const api = new ScriptedApi();
  const logs = captureLogs();
  const parseErrors: ApiEndpoint[] = [];
  const scheduler = new Scheduler({
    sources: createSources(['spend_limit', 'rate_limit'], readerOptions()),
    api,
    clock,
    random: options.random ?? (() => 0.5), // no jitter
    logger: logs.logger,
    intervalsMs: { spend_limit: MIN, rate_limit: 2 * MIN },
    maxStalenessMs: options.maxStalenessMs ?? 10 * MIN,
    requestTimeoutMs: 10_000,
    onParseError: (e) => parseErrors.push(e),
  });
  clock.afterEachTimer = () => scheduler.whenIdle();
  /** What the chunks served now hold, in the text format (read at the call, as a scrape reads them). */
  const text = async () => {
    const chunks = scheduler.chunks();
    for (const c of chunks) await c.make('text');
    return chunks.map((c) => c.body('text')?.toString()).join('');
  };
  const up = (e: ApiEndpoint) => scheduler.statuses().find((s) => s.endpoint === e)?.up;
  return { clock, api, logs, parseErrors, scheduler, text, up };
}

describe('Scheduler', () => {
  it('refreshes every source at start, then each on its own interval', async () => {
    const { clock, api, scheduler, text } = setup();
    api.answers.set('spend_limit', ok(spendBody(10)));
    api.answers.set('rate_limit', ok(rateBody));
    expect(scheduler.ready()).toBe(false);
    scheduler.start();
    await clock.advance(0);
    expect(scheduler.ready()).toBe(true);
    expect(await text()).toContain('mistral_spend{currency="EUR",product="api"} 10');
    expect(await text()).toContain('mistral_rate_limit_requests_per_second 5');

    await clock.advance(MIN);
    expect([api.count('spend_limit'), api.count('rate_limit')]).toEqual([2, 1]);
    await clock.advance(MIN);
    expect([api.count('spend_limit'), api.count('rate_limit')]).toEqual([3, 2]);
    await scheduler.stop();
  });

  it('jitters intervals by at most 10%', async () => {
    for (const [r, expected] of [
      [0, 0.9 * MIN],
      [1, 1.1 * MIN],
    ] as const) {
      const { clock, api, scheduler } = setup({ random: () => r });
      api.answers.set('spend_limit', ok(spendBody(1)));
      api.answers.set('rate_limit', ok(rateBody));
      scheduler.start();
      await clock.advance(0);
      await clock.advance(expected - 1);
      expect(api.count('spend_limit')).toBe(1);
      await clock.advance(1);
      expect(api.count('spend_limit')).toBe(2);
      await scheduler.stop();
    }
  });

  it('keeps the last good data through failures, with mistral_up 0, until MAX_STALENESS', async () => {
    const { clock, api, scheduler, text, up, logs } = setup({ maxStalenessMs: 5 * MIN });
    api.answers.set('spend_limit', ok(spendBody(42)));
    api.answers.set('rate_limit', ok(rateBody));
    scheduler.start();
    await clock.advance(0);
    expect(up('spend_limit')).toBe(true);

    api.answers.set(
      'spend_limit',
      fail(() => new AdminApiError('spend_limit', 'http', 'HTTP 500', { status: 500 })),
    );
    await clock.advance(MIN);
    expect(up('spend_limit')).toBe(false);
    expect(up('rate_limit')).toBe(true);
    expect(await text()).toContain('product="api"} 42');

    await clock.advance(4 * MIN - 1);
    expect(await text()).toContain('product="api"} 42');
    await clock.advance(2);
    expect(await text()).not.toContain('mistral_spend');
    expect(await text()).toContain('mistral_rate_limit_requests_per_second 5');
    expect(logs.lines().some((l) => l.level === 'warn' && /older than MAX_STALENESS \(5m\)/.test(l.msg))).toBe(true);

    api.answers.set('spend_limit', ok(spendBody(43)));
    await clock.advance(MIN);
    expect(up('spend_limit')).toBe(true);
    expect(await text()).toContain('product="api"} 43');
    expect(logs.lines().some((l) => l.level === 'info' && /answers again after 5 failed refresh/.test(l.msg))).toBe(true);
    await scheduler.stop();
  });

  it('removes series that the source no longer reports', async () => {
    const { clock, api, scheduler, text } = setup();
    api.answers.set('spend_limit', ok(spendBody(1)));
    api.answers.set(
      'rate_limit',
      ok({
        requests_per_second: 5,
        tokens_limits_by_model: { a: { tokens_per_minute: 1, tokens_per_month: 2 }, b: { tokens_per_minute: 3, tokens_per_month: 4 } },
      }),
    );
    scheduler.start();
    await clock.advance(0);
    expect(await text()).toContain('model="b"');
    api.answers.set('rate_limit', ok(rateBody));
    await clock.advance(2 * MIN);
    expect(await text()).not.toContain('model="b"');
    await scheduler.stop();
  });

  it('logs a failure when it starts or changes, not at every repeat', async () => {
    const { clock, api, scheduler, logs } = setup();
    api.answers.set('rate_limit', ok(rateBody));
    api.answers.set(
      'spend_limit',
      fail(() => new AdminApiError('spend_limit', 'http', 'HTTP 401', { status: 401 })),
    );
    scheduler.start();
    await clock.advance(0);
    await clock.advance(3 * MIN);
    api.answers.set(
      'spend_limit',
      fail(() => new AdminApiError('spend_limit', 'timeout', 'no answer within 10s')),
    );
    await clock.advance(2 * MIN);

    const loud = logs.lines().filter((l) => l.api_endpoint === 'spend_limit' && (l.level === 'warn' || l.level === 'error'));
    expect(loud.map((l) => l.msg)).toEqual([
      'GET spend-limit: the Admin API rejected the key (401): check MISTRAL_ADMIN_API_KEY',
      'GET spend-limit: no answer within 10s',
    ]);
    expect(logs.lines().filter((l) => l.level === 'debug' && l.api_endpoint === 'spend_limit').length).toBe(4);
    await scheduler.stop();
  });

  it('retries a 403 slowly: 5 × the interval', async () => {
    const { clock, api, scheduler } = setup();
    api.answers.set('rate_limit', ok(rateBody));
    api.answers.set(
      'spend_limit',
      fail(() => new AdminApiError('spend_limit', 'http', 'HTTP 403', { status: 403 })),
    );
    scheduler.start();
    await clock.advance(0);
    await clock.advance(5 * MIN - 1);
    expect(api.count('spend_limit')).toBe(1);
    await clock.advance(1);
    expect(api.count('spend_limit')).toBe(2);
    await scheduler.stop();
  });

  it('waits at least the Retry-After the API asked for', async () => {
    const { clock, api, scheduler } = setup();
    api.answers.set('rate_limit', ok(rateBody));
    api.answers.set(
      'spend_limit',
      fail(() => new AdminApiError('spend_limit', 'rate_limited', '429', { status: 429, retryAfterMs: 7 * MIN })),
    );
    scheduler.start();
    await clock.advance(0);
    await clock.advance(7 * MIN - 1);
    expect(api.count('spend_limit')).toBe(1);
    await clock.advance(1);
    expect(api.count('spend_limit')).toBe(2);
    await scheduler.stop();
  });

  it('honours a Retry-After of at most an hour: an absurd one neither floods the API nor stops the endpoint for years', async () => {
    const { clock, api, scheduler, logs } = setup();
    api.answers.set('rate_limit', ok(rateBody));
    api.answers.set(
      'spend_limit',
      fail(() => new AdminApiError('spend_limit', 'rate_limited', '429', { status: 429, retryAfterMs: 1_000_000_000 * 1000 })),
    );
    scheduler.start();
    await clock.advance(0);
    expect(api.count('spend_limit')).toBe(1);
    await clock.advance(MAX_RETRY_AFTER_MS - 1);
    expect(api.count('spend_limit')).toBe(1);
    await clock.advance(1);
    expect(api.count('spend_limit')).toBe(2);
    expect(logs.lines().find((l) => l.api_endpoint === 'spend_limit' && l.level === 'warn')?.next_try_in).toBe('1h');
    await scheduler.stop();
  });

  it('counts answers it cannot understand as parse errors', async () => {
    const { clock, api, scheduler, parseErrors, up } = setup();
    api.answers.set('rate_limit', ok(rateBody));
    api.answers.set('spend_limit', ok({ limits: 'unexpected' }));
    scheduler.start();
    await clock.advance(0);
    api.answers.set(
      'spend_limit',
      fail(() => new AdminApiError('spend_limit', 'invalid_json', 'not JSON')),
    );
    await clock.advance(MIN);
    expect(parseErrors).toEqual(['spend_limit', 'spend_limit']);
    expect(up('spend_limit')).toBe(false);
    expect(up('rate_limit')).toBe(true);
    await scheduler.stop();
  });

  it('schedules nothing before start: a refresh then is one-off', async () => {
    const { clock, api, scheduler } = setup();
    api.answers.set('spend_limit', ok(spendBody(1)));
    await scheduler.refresh('spend_limit');
    expect(clock.pending().filter((ms) => ms <= 2 * MIN)).toEqual([]);
    await clock.advance(5 * MIN);
    expect(api.count('spend_limit')).toBe(1);
    await scheduler.stop();
  });

  it('runs one refresh of a source at a time', async () => {
    const { clock, api, scheduler } = setup();
    let release!: () => void;
    api.answers.set('rate_limit', ok(rateBody));
    api.answers.set(
      'spend_limit',
      () => new Promise((resolve) => (release = () => resolve({ body: spendBody(1), status: 200, path: 'x' }))),
    );
    const first = scheduler.refresh('spend_limit');
    const second = scheduler.refresh('spend_limit');
    expect(second).toBe(first);
    await settle();
    expect(api.count('spend_limit')).toBe(1);
    release();
    await first;
    expect(scheduler.statuses().find((s) => s.endpoint === 'spend_limit')?.up).toBe(true);
    void clock;
    await scheduler.stop();
  });

  it('gives a refresh up after its deadline (its interval) so a silent API cannot hold it', async () => {
    const { clock, api, scheduler, up } = setup();
    api.answers.set('rate_limit', ok(rateBody));
    let signal: AbortSignal | undefined;
    api.answers.set('spend_limit', (options) => {
      signal = options?.signal;
      return new Promise((_resolve, reject) =>
        options?.signal?.addEventListener('abort', () => reject(new AdminApiError('spend_limit', 'aborted', 'refresh deadline passed'))),
      );
    });
    clock.afterEachTimer = undefined; // the refresh hangs until its deadline: do not wait for it
    scheduler.start();
    await clock.advance(0);
    expect(scheduler.ready()).toBe(false);
    await clock.advance(MIN);
    await scheduler.whenIdle();
    expect(signal?.aborted).toBe(true);
    expect(scheduler.ready()).toBe(true);
    expect(up('spend_limit')).toBe(false);
    await scheduler.stop();
  });

  it('stops: aborts refreshes in flight and schedules nothing more', async () => {
    const { clock, api, scheduler } = setup();
    api.answers.set('rate_limit', ok(rateBody));
    api.answers.set(
      'spend_limit',
      (options) => new Promise((_r, reject) => options?.signal?.addEventListener('abort', () => reject(new Error('aborted')))),
    );
    clock.afterEachTimer = undefined; // the refresh hangs until stopped: do not wait for it
    scheduler.start();
    await clock.advance(0);
    await scheduler.stop();
    expect(clock.pending()).toEqual([]);
    await clock.advance(10 * MIN);
    expect(api.calls.length).toBe(2);
  });

  it('gives the same statuses while nothing changed, and new ones that say every change (read at every scrape)', async () => {
    const { clock, api, scheduler } = setup({ maxStalenessMs: 5 * MIN });
    /** The statuses as made afresh from what the scheduler knows now (the status page's reading). */
    const afresh = () => scheduler.details().map(({ describe: _d, failure: _f, nextRefreshAt: _n, series: _s, ...status }) => status);
    let last = scheduler.statuses();
    const step = async (what: () => Promise<void>, changes: boolean) => {
      await what();
      const now = scheduler.statuses();
      expect(now).toEqual(afresh());
      expect(now === last, 'the same array').toBe(!changes);
      expect(scheduler.statuses(), 'read again').toBe(now);
      last = now;
    };
    expect(last).toEqual(afresh());
    api.answers.set('spend_limit', ok(spendBody(1)));
    api.answers.set(
      'rate_limit',
      ok({ tokens_limits_by_model: { m: { tokens_per_minute: 1, tokens_per_month: 2 }, n: { tokens_per_minute: 'many' } } }),
    );
    await step(async () => {
      scheduler.start();
      await clock.advance(0);
    }, true);
    expect(last.find((s) => s.endpoint === 'rate_limit')?.unreadable).toBeDefined();
    await step(() => clock.advance(MIN - 1), false);
    // A failure: up turns 0, the last success stays.
    api.answers.set(
      'spend_limit',
      fail(() => new AdminApiError('spend_limit', 'http', 'HTTP 500', { status: 500 })),
    );
    await step(() => clock.advance(1), true);
    // The next rate_limit refresh reads every entry: its unreadable tally changes.
    api.answers.set('rate_limit', ok(rateBody));
    await step(() => clock.advance(MIN), true);
    // Past MAX_STALENESS spend_limit's data is withdrawn; a success then brings a new last success.
    api.answers.set('spend_limit', ok(spendBody(2)));
    await step(() => clock.advance(3 * MIN), true);
    await step(async () => {}, false);
    await scheduler.stop();
  });
});

describe('Scheduler: what readers share with each other', () => {
  /**
   * Two sources made for the test: `workspaces` lists names and shares them;
   * `usage` waits for the first try of `workspaces`, then records what it saw.
   */
  function peersSetup() {
    const clock = new ManualClock();
    const api = new ScriptedApi();
    const logs = captureLogs();
    const seen: unknown[] = [];
    const lister: Source<string[]> = {
      endpoint: 'workspaces',
      describe: 'GET workspaces',
      async fetch(ctx) {
        const { body } = await ctx.get();
        return body as string[];
      },
      toFamilies: (names) => [{ name: 'test_listed', help: 'h', labelNames: [], samples: [{ labels: {}, value: names.length }] }],
      share: (names) => ({ names }),
    };
    const follower: Source<number> = {
      endpoint: 'usage',
      describe: 'GET usage',
      async fetch(ctx) {
        await ctx.peers.tried('workspaces', ctx.signal);
        seen.push(ctx.peers.latest('workspaces'));
        await ctx.get();
        return seen.length;
      },
      toFamilies: (n) => [{ name: 'test_follower', help: 'h', labelNames: [], samples: [{ labels: {}, value: n }] }],
    };
    const scheduler = new Scheduler({
      sources: [follower, lister] as Source[],
      api,
      clock,
      random: () => 0.5,
      logger: logs.logger,
      intervalsMs: { usage: MIN, workspaces: 10 * MIN },
      maxStalenessMs: 15 * MIN,
      requestTimeoutMs: 10_000,
      onParseError: () => {},
    });
    clock.afterEachTimer = () => scheduler.whenIdle();
    return { clock, api, scheduler, seen };
  }

  it('a follower started with its peer waits for the peer’s first try, then reads what it shared', async () => {
    const { clock, api, scheduler, seen } = peersSetup();
    let release = () => {};
    api.answers.set('workspaces', () => new Promise((resolve) => (release = () => resolve({ body: ['a', 'b'], status: 200, path: 'x' }))));
    api.answers.set('usage', ok({}));
    clock.afterEachTimer = undefined;
    scheduler.start();
    await clock.advance(0);
    await settle();
    // The follower was started first (catalog order) and is waiting: it has asked nothing yet.
    expect(api.count('usage')).toBe(0);
    release();
    await scheduler.whenIdle();
    expect(api.count('usage')).toBe(1);
    expect(seen).toEqual([{ names: ['a', 'b'] }]);
    await scheduler.stop();
  });

  it('a peer whose first try failed is waited for no longer, and shares nothing', async () => {
    const { clock, api, scheduler, seen } = peersSetup();
    api.answers.set(
      'workspaces',
      fail(() => new AdminApiError('workspaces', 'http', 'forbidden', { status: 403, path: 'x' })),
    );
    api.answers.set('usage', ok({}));
    scheduler.start();
    await clock.advance(0);
    expect(seen).toEqual([undefined]);
    expect(api.count('usage')).toBe(1);
    await scheduler.stop();
  });

  it('what a peer shared is withdrawn with its data at MAX_STALENESS', async () => {
    const { clock, api, scheduler, seen } = peersSetup();
    let listed = 0;
    api.answers.set('workspaces', () => {
      listed += 1;
      if (listed > 1) throw new AdminApiError('workspaces', 'http', 'down', { status: 503, path: 'x' });
      return { body: ['a'], status: 200, path: 'x' };
    });
    api.answers.set('usage', ok({}));
    scheduler.start();
    await clock.advance(0);
    await clock.advance(14 * MIN);
    expect(seen.at(-1)).toEqual({ names: ['a'] });
    await clock.advance(2 * MIN);
    expect(seen.at(-1)).toBeUndefined();
    await scheduler.stop();
  });
});
