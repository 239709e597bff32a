import { describe, expect, it } from 'vitest';
import type { QueryValue } from '../src/admin-api/types.js';
import { Anonymizer } from '../src/anonymize.js';
import { formatCheck, runCheck } from '../src/check.js';
import { loadConfig } from '../src/config/index.js';
import {
  AUDIT_MAX_PAGES,
  AUDIT_PAGE_LIMIT,
  AuditLog,
  auditEvents,
  auditFamilies,
  DEFAULT_AUDIT_EVENT_TYPES,
  parseAuditPage,
} from '../src/sources/audit-events.js';
import { ParseError } from '../src/sources/types.js';
import { UnreadableTally } from '../src/sources/unreadable.js';
import { flat } from './support/families.js';
import { CANARY_KEY, samples, useHarness, valueOf, type Harness } from './support/harness.js';
import { captureLogs } from './support/logs.js';
import { readerOptions, recordingContext } from './support/readers.js';

const harness = useHarness();

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** A Tuesday, mid-day: a working day's audit log. */
const TUESDAY = Date.UTC(2026, 10, 17, 12, 0, 0);
const ALLOWED = new Set(DEFAULT_AUDIT_EVENT_TYPES);

const iso = (ms: number) => new Date(ms).toISOString();

/** What the exporter should say at `now`, from the simulator's own log: counts over (now - 24 h, now), newest instants since `since`. */
function truthAt(h: Harness, now: number, since = now - DAY) {
  const counts: Record<string, number> = Object.fromEntries(DEFAULT_AUDIT_EVENT_TYPES.map((t) => [t, 0]));
  for (const e of h.sim.truth.auditLog(now - DAY, now)) if (ALLOWED.has(e.eventType)) counts[e.eventType] = (counts[e.eventType] ?? 0) + 1;
  const latest: Record<string, number> = {};
  for (const e of h.sim.truth.auditLog(since, now)) if (ALLOWED.has(e.eventType)) latest[e.eventType] = e.ms / 1000;
  return { counts, latest };
}

function exported(text: string) {
  const counts: Record<string, number> = {};
  const latest: Record<string, number> = {};
  for (const t of DEFAULT_AUDIT_EVENT_TYPES) {
    const n = valueOf(text, 'mistral_audit_events', { event_type: t });
    if (n !== undefined) counts[t] = n;
    const at = valueOf(text, 'mistral_audit_event_last_timestamp_seconds', { event_type: t });
    if (at !== undefined) latest[t] = at;
  }
  return { counts, latest };
}

const auditRequests = (h: Harness) => h.sim.requests.filter((r) => r.endpoint === 'audit_events');

describe('GET audit-logs against the simulator', () => {
  it('counts the allow-listed events of the last 24 hours and the newest of each, as the simulator logged them', async () => {
    const h = await harness({ start: TUESDAY, env: { MISTRAL_ENDPOINTS: 'audit_events' } });
    await h.refresh('audit_events');
    const text = await h.scrape();
    const truth = truthAt(h, TUESDAY);
    expect(exported(text)).toEqual(truth);
    // The simulated day has limit changes, key events and member changes, and types outside the allow-list.
    expect(truth.counts['workspace.member.add']).toBeGreaterThan(0);
    expect(Object.values(truth.counts).filter((n) => n === 0).length).toBeGreaterThan(0);
    expect(h.sim.truth.auditLog(TUESDAY - DAY, TUESDAY).some((e) => !ALLOWED.has(e.eventType))).toBe(true);
    expect(valueOf(text, 'mistral_audit_log_read_until_timestamp_seconds')).toBe(TUESDAY / 1000);
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'audit_events' })).toBe(1);
    // Only the allow-listed types are asked for, sorted, from 24 hours ago to now; GET only.
    const [first] = auditRequests(h);
    expect(first?.method).toBe('GET');
    expect(first?.lists).toEqual({
      event_type: [...DEFAULT_AUDIT_EVENT_TYPES],
      sort: ['ascending'],
      after: [iso(TUESDAY - DAY)],
      before: [iso(TUESDAY)],
      limit: [String(AUDIT_PAGE_LIMIT)],
    });
    expect(h.sim.requests.every((r) => r.method === 'GET')).toBe(true);
    // Counts and instants only: nobody who acted, nothing acted on.
    const served = JSON.stringify(h.sim.bodyFor('audit_events', { after: iso(TUESDAY - DAY) }));
    expect(served).toContain('@example.com');
    expect(text).not.toContain('@example.com');
    for (const id of h.sim.truth.userIds.slice(0, 200)) expect(text).not.toContain(id);
  });

  it('reads on from the newest entry read, lets entries age out of the 24 hours, and counts none twice', async () => {
    const h = await harness({ start: TUESDAY, env: { MISTRAL_ENDPOINTS: 'audit_events' } });
    await h.refresh('audit_events');
    const start = TUESDAY;
    for (const step of [HOUR, 7 * HOUR, 17 * HOUR, 2 * HOUR]) {
      const newestRead = Math.max(
        ...h.sim.truth
          .auditLog(start - DAY, h.clock.now())
          .filter((e) => ALLOWED.has(e.eventType))
          .map((e) => e.ms),
      );
      const before = auditRequests(h).length;
      await h.clock.advance(step);
      const now = h.clock.now();
      await h.refresh('audit_events');
      // The refresh asks only after the newest instant read (1 ms before it: entries of that instant not read yet come too).
      const asked = auditRequests(h).slice(before);
      expect(asked[0]?.query.after).toBe(iso(newestRead - 1));
      expect(asked.every((r) => r.query.before === iso(now))).toBe(true);
      expect(exported(await h.scrape()), `at +${(now - start) / HOUR}h`).toEqual(truthAt(h, now, start - DAY));
    }
    // 27 hours on, the first day's entries have left the counts (which did change meanwhile).
    expect(h.clock.now() - start).toBeGreaterThanOrEqual(27 * HOUR);
    expect(truthAt(h, h.clock.now()).counts).not.toEqual(truthAt(h, start).counts);
  });

  it('a restart (a new exporter) reads the last 24 hours again, and no more', async () => {
    const later = TUESDAY + 3 * DAY;
    const h = await harness({ start: later, env: { MISTRAL_ENDPOINTS: 'audit_events' } });
    await h.refresh('audit_events');
    expect(auditRequests(h)[0]?.query.after).toBe(iso(later - DAY));
    expect(exported(await h.scrape())).toEqual(truthAt(h, later));
  });

  it('reads page after page, at most the cap per refresh, and counts once the 24 hours are read whole', async () => {
    const h = await harness({ start: TUESDAY, sim: { org: { auditActivity: 100 } }, env: { MISTRAL_ENDPOINTS: 'audit_events' } });
    const allowed = h.sim.truth.auditLog(TUESDAY - DAY, TUESDAY).filter((e) => ALLOWED.has(e.eventType));
    expect(allowed.length).toBeGreaterThan(AUDIT_PAGE_LIMIT * AUDIT_MAX_PAGES);
    await h.refresh('audit_events');
    let text = await h.scrape();
    expect(auditRequests(h)).toHaveLength(AUDIT_MAX_PAGES);
    // Behind: no count (it would be too low), the log read up to an instant before now, and said in the log.
    expect(exported(text).counts).toEqual({});
    const readUntil = valueOf(text, 'mistral_audit_log_read_until_timestamp_seconds') as number;
    expect(readUntil).toBeLessThan(TUESDAY / 1000);
    expect(readUntil).toBeGreaterThan((TUESDAY - DAY) / 1000);
    expect(h.logs.lines().some((l) => l.msg.includes('pages read (the most per refresh)'))).toBe(true);
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'audit_events' })).toBe(1);

    // The next refreshes read on from there; once caught up the counts are those of the simulator, ties at page boundaries counted once.
    for (let i = 0; i < 5 && exported(text).counts['api_key.create'] === undefined; i++) {
      await h.clock.advance(60_000);
      await h.refresh('audit_events');
      text = await h.scrape();
    }
    expect(exported(text).counts).toEqual(truthAt(h, h.clock.now()).counts);
    expect(valueOf(text, 'mistral_audit_log_read_until_timestamp_seconds')).toBe(h.clock.now() / 1000);
  });

  it('a page that fails fails that refresh only; the next one reads on and loses nothing', async () => {
    const h = await harness({ start: TUESDAY, sim: { org: { auditActivity: 5 } }, env: { MISTRAL_ENDPOINTS: 'audit_events,rate_limit' } });
    await h.refresh('rate_limit');
    // The first page answers, the second is larger than MAX_RESPONSE_SIZE.
    h.sim.setFault('audit_events', { kind: 'delay', ms: 0 }, 1);
    h.sim.setFault('audit_events', { kind: 'huge', bytes: 64 * 1024 ** 2 }, 1);
    await h.refresh('audit_events');
    let text = await h.scrape();
    expect(auditRequests(h).length).toBe(2);
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'audit_events' })).toBe(0);
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'rate_limit' })).toBe(1);
    expect(exported(text).counts).toEqual({});

    await h.clock.advance(60_000);
    await h.refresh('audit_events');
    text = await h.scrape();
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'audit_events' })).toBe(1);
    expect(exported(text)).toEqual(truthAt(h, h.clock.now(), TUESDAY - DAY));
    // It read on from the first page, not from 24 hours ago.
    const third = auditRequests(h)[2];
    expect(Date.parse(third?.query.after ?? '')).toBeGreaterThan(TUESDAY - DAY);
  });

  it('a 403 (a key without the audit log scope) costs only this endpoint', async () => {
    const h = await harness({ start: TUESDAY, env: { MISTRAL_ENDPOINTS: 'audit_events,spend_limit' } });
    h.sim.setFault('audit_events', { kind: 'status', status: 403 });
    await h.refreshAll();
    const text = await h.scrape();
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'audit_events' })).toBe(0);
    expect(valueOf(text, 'mistral_up', { api_endpoint: 'spend_limit' })).toBe(1);
    expect([...samples(text).keys()].filter((k) => k.startsWith('mistral_audit'))).toEqual([]);
    expect(h.logs.lines().some((l) => l.api_endpoint === 'audit_events' && String(l.msg).includes('403'))).toBe(true);
  });

  it('check says what a 403 or a 422 (an unknown name in AUDIT_EVENT_TYPES) costs, and what to do', async () => {
    const h = await harness({ start: TUESDAY });
    const check = async (env: Record<string, string>) => {
      const command = loadConfig({
        argv: ['check'],
        env: { MISTRAL_ADMIN_API_KEY: CANARY_KEY, MISTRAL_ADMIN_API_URL: h.sim.url, MISTRAL_ENDPOINTS: 'audit_events,spend_limit', ...env },
      });
      if (command.kind !== 'check') throw new Error('unexpected command');
      const results = await runCheck(command.config, { logger: captureLogs().logger });
      return formatCheck({ apiUrl: h.sim.url, pathLayout: 'auto', demo: false, results });
    };
    h.sim.setFault('audit_events', { kind: 'status', status: 403 }, 1);
    const forbidden = await check({});
    expect(forbidden).toMatch(/^ok +spend_limit /m);
    expect(forbidden).toMatch(/^FAILED +audit_events +audit-logs +403 /m);
    expect(forbidden).toContain('can leave audit_events out of MISTRAL_ENDPOINTS');
    // The simulator validates event_type against the spec's enum, as the API does.
    const unknown = await check({ AUDIT_EVENT_TYPES: 'api_key.rotate,api_key.rotated' });
    expect(unknown).toMatch(/^FAILED +audit_events +audit-logs +422 /m);
    expect(unknown).toContain('check that each name of AUDIT_EVENT_TYPES is one of its event types');
  });

  it("check --save-answers keeps no value of an entry's metadata, whatever its key", async () => {
    const h = await harness({ start: TUESDAY });
    const body = h.sim.bodyFor('audit_events', { after: iso(TUESDAY - DAY), sort: 'ascending', limit: '50' }) as Array<
      Record<string, unknown>
    >;
    const withIp: Array<Record<string, unknown>> = body.map((e) => ({
      ...e,
      actor_metadata: { ...(e.actor_metadata as object), ip: '203.0.113.7', agent: 'curl/8' },
    }));
    const saved = JSON.stringify(new Anonymizer([]).json(withIp));
    for (const e of withIp) {
      for (const field of ['actor_metadata', 'event_metadata', 'target_metadata'] as const) {
        for (const v of Object.values(e[field] as Record<string, string>)) expect(saved).not.toContain(v);
      }
    }
    // The shape and what a bug report needs stay: the fields, the event types, the instants.
    const first = (JSON.parse(saved) as Array<Record<string, unknown>>)[0];
    expect(first?.event_type).toBe(body[0]?.event_type);
    expect(first?.created_at).toBe(body[0]?.created_at);
    expect(Object.keys(first?.actor_metadata as object)).toContain('ip');
  });

  it('left out of MISTRAL_ENDPOINTS, it is never asked and has no series', async () => {
    const h = await harness({ start: TUESDAY, env: { MISTRAL_ENDPOINTS: 'spend_limit' } });
    await h.refreshAll();
    const text = await h.scrape();
    expect(auditRequests(h)).toEqual([]);
    expect(text).not.toContain('mistral_audit');
  });
});

/** An entry of the schema's shape. */
const entry = (logId: number, ms: number, eventType = 'api_key.rotate') => ({
  created_at: iso(ms),
  actor_type: 'HUMAN',
  actor_metadata: { email: 'a@example.com' },
  event_type: eventType,
  event_metadata: {},
  target_type: 'API_KEY',
  target_metadata: {},
  log_id: logId,
  organization_uuid: null,
  workspace_uuid: null,
});

describe('parseAuditPage', () => {
  it('reads ids as numbers or numeric strings, dates with any offset, and event types outside the enum', () => {
    const { entries } = parseAuditPage([
      { ...entry(1, 0), created_at: '2026-11-17T10:00:00+00:00', log_id: '7' },
      { ...entry(2, 0), created_at: '2026-11-17T11:00:00.123456+01:00', event_type: 'something.new', workspace_uuid: 'w' },
      { log_id: 3, created_at: '2026-11-17T10:00:00', event_type: 'api_key.create' },
    ]);
    expect(entries).toEqual([
      { id: '7', ms: Date.UTC(2026, 10, 17, 10), eventType: 'api_key.rotate' },
      { id: '2', ms: Date.UTC(2026, 10, 17, 10) + 123.456, eventType: 'something.new' },
      { id: '3', ms: Date.UTC(2026, 10, 17, 10), eventType: 'api_key.create' },
    ]);
  });

  it('skips and counts an entry it cannot read; refuses an answer of which none is readable, or that is not a list', () => {
    const tally = new UnreadableTally();
    const { entries, listed } = parseAuditPage(
      [
        entry(1, 1000),
        { ...entry(2, 0), created_at: null },
        { ...entry(3, 0), created_at: 'yesterday' },
        { ...entry(4, 0), log_id: 'many' },
        { ...entry(5, 0), log_id: 1.5 },
        { ...entry(6, 0), event_type: null },
        'not an entry',
      ],
      tally,
    );
    expect([entries.map((e) => e.id), listed]).toEqual([['1'], 7]);
    expect(Object.fromEntries(Object.entries(tally.result()).map(([k, v]) => [k, v?.count]))).toEqual({
      missing: 2,
      wrong_type: 2,
      not_a_number: 2,
    });
    expect(() => parseAuditPage([{ ...entry(1, 0), log_id: null }])).toThrow(ParseError);
    expect(() => parseAuditPage({ items: [] })).toThrow(ParseError);
    expect(parseAuditPage([]).entries).toEqual([]);
  });
});

describe('the incremental reader', () => {
  const NOW = TUESDAY;
  const TYPES = ['api_key.rotate', 'billing.monthly_limit.updated'];

  /** Serves `log` as the API would: the bounds and the limit honoured, oldest first. */
  const serving = (log: ReturnType<typeof entry>[]) => (q: Record<string, QueryValue> | undefined) => {
    const after = Date.parse(String(q?.after));
    const before = Date.parse(String(q?.before));
    return log.filter((e) => Date.parse(e.created_at) > after && Date.parse(e.created_at) < before).slice(0, Number(q?.limit));
  };

  it('exports 0 for an allow-listed type without entries, and no newest instant for it', async () => {
    const log = new AuditLog(TYPES);
    const { ctx } = recordingContext(NOW, serving([entry(2, NOW - 2 * HOUR, 'user.log_in'), entry(1, NOW - HOUR)]));
    expect(flat(auditFamilies(await log.refresh(ctx)))).toEqual({
      'mistral_audit_events{event_type="api_key.rotate"}': 1,
      'mistral_audit_events{event_type="billing.monthly_limit.updated"}': 0,
      'mistral_audit_event_last_timestamp_seconds{event_type="api_key.rotate"}': (NOW - HOUR) / 1000,
      mistral_audit_log_read_until_timestamp_seconds: NOW / 1000,
    });
  });

  it('pages over entries sharing one instant at a page boundary and counts each once', async () => {
    const at = NOW - HOUR;
    const log = [
      ...Array.from({ length: AUDIT_PAGE_LIMIT - 10 }, (_, i) => entry(i, NOW - 3 * HOUR + i)),
      ...Array.from({ length: 30 }, (_, i) => entry(1000 + i, at)),
      entry(2000, NOW - 1),
    ];
    const { ctx, queries } = recordingContext(NOW, serving(log));
    const snapshot = await new AuditLog(TYPES).refresh(ctx);
    expect(snapshot.counts?.get('api_key.rotate')).toBe(log.length);
    expect(queries.map((q) => q?.after)).toEqual([iso(NOW - DAY), iso(at - 1), iso(NOW - 2)]);
  });

  it('skips past more entries at one instant than a page holds, and says so', async () => {
    const at = NOW - HOUR;
    const log = [...Array.from({ length: AUDIT_PAGE_LIMIT + 5 }, (_, i) => entry(i, at)), entry(999, NOW - 1)];
    const logs = captureLogs();
    const { ctx } = recordingContext(NOW, serving(log), logs.logger);
    const snapshot = await new AuditLog(TYPES).refresh(ctx);
    expect(snapshot.counts?.get('api_key.rotate')).toBe(AUDIT_PAGE_LIMIT + 1);
    expect(logs.lines().some((l) => String(l.msg).includes('at one instant'))).toBe(true);
  });

  it('refuses an answer not sorted as asked, or reaching back before `after`', async () => {
    const descending = recordingContext(NOW, () => [entry(2, NOW - HOUR), entry(1, NOW - 2 * HOUR)]);
    await expect(new AuditLog(TYPES).refresh(descending.ctx)).rejects.toThrow(/ascending/);
    const ignoresAfter = recordingContext(NOW, () => [entry(1, NOW - 2 * DAY)]);
    await expect(new AuditLog(TYPES).refresh(ignoresAfter.ctx)).rejects.toThrow(/older than after/);
  });

  it('holds at most maxKept entries: the counts wait until the ones let go have left the window', async () => {
    const log = Array.from({ length: 10 }, (_, i) => entry(i, NOW - 20 * HOUR + i * HOUR));
    const audit = new AuditLog(TYPES, 6);
    const first = await audit.refresh(recordingContext(NOW, serving(log)).ctx);
    expect(first.counts).toBeUndefined();
    expect(first.latest.get('api_key.rotate')).toBe(NOW - 11 * HOUR);
    // 7.5 hours on, the 4 let go (the oldest) are out of the window: the 6 kept are the whole count.
    const later = NOW + 7.5 * HOUR;
    const second = await audit.refresh(recordingContext(later, serving(log)).ctx);
    expect(second.counts?.get('api_key.rotate')).toBe(6);
    // Entries of other types (an API that ignores the event_type filter) take no room.
    const others = [1, 2, 3, 4].map((i) => entry(i, NOW - i * HOUR, 'user.log_in')).reverse();
    const small = await new AuditLog(TYPES, 1).refresh(recordingContext(NOW, serving([...others, entry(9, NOW - 1)])).ctx);
    expect(small.counts?.get('api_key.rotate')).toBe(1);
  });

  it('the endpoint asks for the allow-list of its options', async () => {
    const reader = auditEvents.reader(readerOptions({ auditEventTypes: ['workspace.create'] }));
    const { ctx, queries } = recordingContext(NOW, () => []);
    const snapshot = await reader.fetch(ctx);
    expect(queries[0]?.event_type).toEqual(['workspace.create']);
    expect(flat(reader.toFamilies(snapshot))).toEqual({
      'mistral_audit_events{event_type="workspace.create"}': 0,
      mistral_audit_log_read_until_timestamp_seconds: NOW / 1000,
    });
  });
});
