import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AdminApi, ApiResponse, GetOptions, QueryValue } from '../src/admin-api/types.js';
import type { ApiEndpoint } from '../src/endpoints.js';
import { Scheduler } from '../src/scheduler.js';
import type { Source } from '../src/sources/types.js';
import { captureLogs } from './support/logs.js';
import { ManualClock } from './support/manual-clock.js';

/**
 * A reader whose snapshot depends on its answers alone, and whose queries are
 * known before it asks (Reader.plannedQueries): the scheduler asks them again
 * before the reader runs, each unless its answer is the same bytes as the last
 * good refresh's. The client's side of it (`unlessDigest` over real HTTP) is in
 * test/admin-api/client.test.ts; here, the scheduler's.
 */

const DAY = 86_400_000;
type Query = Record<string, QueryValue>;

/** An Admin API whose answer to each query the test sets, with the client's digests and `unlessDigest`. */
class DigestApi implements AdminApi {
  readonly asked: string[] = [];
  readonly answers = new Map<string, unknown>();

  async get(_endpoint: ApiEndpoint, options: GetOptions = {}): Promise<ApiResponse> {
    const key = JSON.stringify(options.query ?? {});
    this.asked.push(key);
    const body = this.answers.get(key);
    if (body === undefined) throw new Error(`no answer for ${key}`);
    const digest = createHash('sha256').update(JSON.stringify(body)).digest('hex');
    if (options.unlessDigest === digest) return { body: undefined, status: 200, path: 'p', digest, unchanged: true };
    return { body, status: 200, path: 'p', ...(options.digest || options.unlessDigest ? { digest } : {}) };
  }
}

/** Two windows, `a` and `b`, of the day `now` is in; the snapshot is their values. */
const queriesAt = (now: number): Query[] => ['a', 'b'].map((w) => ({ day: Math.floor(now / DAY), w }));

function setup() {
  const clock = new ManualClock();
  const api = new DigestApi();
  let reads = 0;
  const source: Source<number[]> = {
    endpoint: 'lechat_by_agent',
    describe: 'two windows',
    answersOnly: true,
    plannedQueries: queriesAt,
    async fetch(ctx) {
      reads++;
      const values: number[] = [];
      for (const query of queriesAt(ctx.now)) values.push(((await ctx.get(query)).body as { v: number }).v);
      return values;
    },
    toFamilies: (values) => [
      {
        name: 'test_value',
        help: 'A value per window.',
        labelNames: ['w'],
        samples: values.map((value, i) => ({ labels: { w: String(i) }, value })),
      },
    ],
  };
  const scheduler = new Scheduler({
    sources: [source],
    api,
    clock,
    random: () => 0.5,
    logger: captureLogs().logger,
    intervalsMs: { lechat_by_agent: 60_000 },
    maxStalenessMs: DAY,
    requestTimeoutMs: 10_000,
    onParseError: () => {},
  });
  const answer = (at: number, a: number, b: number) => {
    const [qa, qb] = queriesAt(at).map((q) => JSON.stringify(q));
    api.answers.set(qa as string, { v: a });
    api.answers.set(qb as string, { v: b });
  };
  const served = async () => {
    const [chunk] = scheduler.chunks();
    if (chunk === undefined) return undefined;
    await chunk.make('text');
    return { chunk, text: chunk.body('text')?.toString() };
  };
  /** One refresh: the requests it made (their windows) and whether the reader ran. */
  const refresh = async () => {
    const asked = api.asked.length;
    const before = reads;
    await scheduler.refresh('lechat_by_agent');
    return { asked: api.asked.slice(asked).map((k) => (JSON.parse(k) as { w: string }).w), read: reads > before };
  };
  return { clock, scheduler, answer, served, refresh };
}

describe('answers asked again before the reader runs', () => {
  it('the same answers: two requests, nothing read, the same chunk served', async () => {
    const { clock, answer, served, refresh } = setup();
    answer(clock.now(), 1, 2);
    expect(await refresh()).toEqual({ asked: ['a', 'b'], read: true });
    const first = await served();
    expect(first?.text).toContain('test_value{w="1"} 2');
    expect(await refresh()).toEqual({ asked: ['a', 'b'], read: false });
    expect((await served())?.chunk).toBe(first?.chunk);
  });

  it('the first answer differs: it is handed to the reader, which asks only for the second', async () => {
    const { clock, answer, served, refresh } = setup();
    answer(clock.now(), 1, 2);
    await refresh();
    answer(clock.now(), 10, 2);
    expect(await refresh()).toEqual({ asked: ['a', 'b'], read: true });
    expect((await served())?.text).toContain('test_value{w="0"} 10');
  });

  it('the second answer differs: the reader asks for the first again and takes the second as it came', async () => {
    const { clock, answer, served, refresh } = setup();
    answer(clock.now(), 1, 2);
    await refresh();
    answer(clock.now(), 1, 20);
    expect(await refresh()).toEqual({ asked: ['a', 'b', 'a'], read: true });
    const text = (await served())?.text;
    expect(text).toContain('test_value{w="0"} 1');
    expect(text).toContain('test_value{w="1"} 20');
    // And the refresh after that one finds its answers the same again.
    expect(await refresh()).toEqual({ asked: ['a', 'b'], read: false });
  });

  it('other queries (a new day): nothing asked again, the reader asks for its own', async () => {
    const { clock, answer, served, refresh } = setup();
    answer(clock.now(), 1, 2);
    await refresh();
    await clock.advance(DAY);
    answer(clock.now(), 1, 2);
    expect(await refresh()).toEqual({ asked: ['a', 'b'], read: true });
    expect((await served())?.text).toContain('test_value{w="1"} 2');
  });
});
