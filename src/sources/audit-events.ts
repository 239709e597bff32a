import { parseIsoTimestamp } from '../dates.js';
import { family, REFRESHED, single, type FamilyDef } from './families.js';
import { expectArray, expectObject, optionalString, toNumber, type Json } from './parse.js';
import { defineEndpoint, ParseError, type FetchContext, type MetricFamily, type Reader, type Sample, type Unreadable } from './types.js';
import { readEach, UnreadableTally } from './unreadable.js';

/**
 * GET audit-logs (beta): the organization's audit log, a bare array of
 * entries with no next cursor, filtered by `event_type` and by time
 * (`after`, `before`), sorted `ascending` on request, at most `limit` each.
 *
 * Read incrementally: the reader keeps the allow-listed entries of the last
 * 24 hours between refreshes (it is made once per process). The first
 * refresh reads the last 24 hours; each later one reads on from the newest
 * entry seen, a page at a time, at most MAX_PAGES pages; what the cap leaves
 * is read by the next refresh. A restart reads the last 24 hours again.
 * Only counts and instants are kept: never who acted or on what.
 */

export const AUDIT_WINDOW_MS = 24 * 3_600_000;
/** Entries asked per page (the spec's default is 20 and it states no maximum). */
export const AUDIT_PAGE_LIMIT = 100;
/** Most pages read per refresh. */
export const AUDIT_MAX_PAGES = 20;
/** Most allow-listed entries held (those of the last 24 hours); beyond it the oldest are let go and the counts are withheld until they leave the window. */
export const AUDIT_MAX_KEPT = 50_000;

/** `AUDIT_EVENT_TYPES`' default: the event types about limits, keys, members, roles and workspaces. */
export const DEFAULT_AUDIT_EVENT_TYPES: readonly string[] = [
  'billing.monthly_limit.updated',
  'billing.workspace_monthly_limit.updated',
  'billing.shared_budget_override.updated',
  'api_key.create',
  'api_key.rotate',
  'api_key.delete',
  'admin_api_key.created',
  'admin_api_key.delete',
  'workspace.member.add',
  'workspace.member.remove',
  'user.organization.join',
  'user.organization.leave',
  'workspace.member.role.update',
  'user.organization.role.update',
  'workspace.create',
  'workspace.update',
  'workspace.delete',
];

/** One entry as kept: its id, instant (ms) and event type. Nothing about the actor or the target. */
export interface AuditEntry {
  id: string;
  ms: number;
  eventType: string;
}

export interface AuditSnapshot {
  /** The allow-list, in its order: the event types with series. */
  eventTypes: readonly string[];
  /** Per allow-listed type, entries in the 24 hours before the refresh; undefined until the window is read whole. */
  counts: ReadonlyMap<string, number> | undefined;
  /** Per type, the instant (ms) of the newest entry read. */
  latest: ReadonlyMap<string, number>;
  /** The log is read whole up to this instant (ms): the refresh's start once caught up. */
  readUntil: number | undefined;
  unreadable?: Unreadable;
}

/** The readable entries of one page; an unreadable one is skipped and tallied. Reads no actor, target or metadata field. */
export function parseAuditPage(body: unknown, tally = new UnreadableTally()): { entries: AuditEntry[]; listed: number } {
  const items = expectArray(body, 'audit-logs');
  const entries = readEach(items, 'audit-logs', tally, (raw: Json, where): AuditEntry => {
    const e = expectObject(raw, where);
    return {
      id: logId(e.log_id, `${where}.log_id`),
      ms: createdAt(e.created_at, `${where}.created_at`),
      eventType: eventType(e.event_type, where),
    };
  });
  return { entries, listed: items.length };
}

function logId(v: Json | undefined, where: string): string {
  if (v === undefined || v === null) throw new ParseError(`${where}: missing`, 'missing');
  const n = toNumber(v, where);
  if (!Number.isSafeInteger(n)) throw new ParseError(`${where}: expected an integer id, got ${n}`, 'not_a_number');
  return String(n);
}

function createdAt(v: Json | undefined, where: string): number {
  const text = optionalString(v, where);
  if (text === undefined) throw new ParseError(`${where}: missing`, 'missing');
  const ms = parseIsoTimestamp(text);
  if (ms === undefined) throw new ParseError(`${where}: expected a date-time, got ${JSON.stringify(text.slice(0, 40))}`, 'wrong_type');
  return ms;
}

function eventType(v: Json | undefined, where: string): string {
  const text = optionalString(v, `${where}.event_type`)?.trim();
  if (!text) throw new ParseError(`${where}.event_type: missing`, 'missing');
  return text;
}

export const AUDIT_FAMILIES = {
  events: {
    name: 'mistral_audit_events',
    help: `Audit log entries of the event type in the 24 hours before the refresh (GET audit-logs), for the event types of AUDIT_EVENT_TYPES; 0 is a count. Absent until the 24 hours are read whole. ${REFRESHED}`,
    labelNames: ['event_type'],
  },
  lastTimestamp: {
    name: 'mistral_audit_event_last_timestamp_seconds',
    help: `Instant of the newest audit log entry of the event type read since the exporter started (it starts by reading the last 24 hours); absent when none. ${REFRESHED}`,
    labelNames: ['event_type'],
  },
  readUntil: {
    name: 'mistral_audit_log_read_until_timestamp_seconds',
    help: `The audit log is read whole up to this instant: the refresh's start once caught up, earlier while the per-refresh page cap leaves entries for the next refresh. ${REFRESHED}`,
    labelNames: [],
  },
} as const satisfies Record<string, FamilyDef>;

/** Pure: the audit metric families of a snapshot. */
export function auditFamilies(s: AuditSnapshot): MetricFamily[] {
  const counts: Sample[] = [];
  const latest: Sample[] = [];
  for (const event_type of s.eventTypes) {
    const n = s.counts?.get(event_type);
    if (n !== undefined) counts.push({ labels: { event_type }, value: n });
    const at = s.latest.get(event_type);
    if (at !== undefined) latest.push({ labels: { event_type }, value: at / 1000 });
  }
  const F = AUDIT_FAMILIES;
  return [
    family(F.events, counts),
    family(F.lastTimestamp, latest),
    family(F.readUntil, single(s.readUntil === undefined ? undefined : s.readUntil / 1000)),
  ];
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The state of one reader, kept between refreshes: the allow-listed entries
 * of the window by id, the newest instant read, the newest entry per type.
 */
export class AuditLog {
  private readonly kept = new Map<string, { ms: number; eventType: string }>();
  private readonly latest = new Map<string, number>();
  private readonly allowed: ReadonlySet<string>;
  /** Newest instant read (ms); the next refresh reads on from it. */
  private cursor: number | undefined;
  /** Newest instant of an entry let go by AUDIT_MAX_KEPT: counts are withheld while it is in the window. */
  private droppedUntil: number | undefined;

  constructor(
    readonly eventTypes: readonly string[],
    private readonly maxKept = AUDIT_MAX_KEPT,
  ) {
    this.allowed = new Set(eventTypes);
  }

  async refresh(ctx: FetchContext): Promise<AuditSnapshot> {
    const { now } = ctx;
    const windowStart = now - AUDIT_WINDOW_MS;
    for (const [id, e] of this.kept) if (e.ms <= windowStart) this.kept.delete(id);
    // From just before the newest instant read: entries of that instant not read yet come too (the ones read are known by id).
    let after = Math.max(windowStart, this.cursor === undefined ? windowStart : Math.floor(this.cursor) - 1);
    const tally = new UnreadableTally();
    let caughtUp = false;
    for (let page = 1; page <= AUDIT_MAX_PAGES && !caughtUp; page++) {
      const query = { event_type: this.eventTypes, sort: 'ascending', after: iso(after), before: iso(now), limit: AUDIT_PAGE_LIMIT };
      const { entries, listed } = parseAuditPage((await ctx.get(query)).body, tally);
      const inRange = this.inRange(entries, after, now);
      // Each page is kept as it comes: a later page that fails costs that refresh only, and the next one reads on from here.
      for (const e of inRange) this.keep(e, windowStart);
      const newest = inRange.at(-1)?.ms;
      if (newest === undefined) {
        caughtUp = true;
        break;
      }
      const next = Math.floor(newest) - 1;
      if (next > after) {
        after = next;
        continue;
      }
      // Every entry of the page is at one instant, already read: the end, unless the page is full.
      caughtUp = listed < AUDIT_PAGE_LIMIT;
      if (!caughtUp) {
        ctx.logger.warn(
          { api_endpoint: 'audit_events', at: iso(newest) },
          `GET audit-logs: more than ${AUDIT_PAGE_LIMIT} entries at one instant; those beyond the page are skipped`,
        );
        after = Math.floor(newest);
        this.cursor = Math.max(this.cursor ?? 0, after + 1);
      }
    }
    if (!caughtUp) {
      ctx.logger.warn(
        { api_endpoint: 'audit_events', read_until: this.cursor === undefined ? undefined : iso(this.cursor), pages: AUDIT_MAX_PAGES },
        `GET audit-logs: ${AUDIT_MAX_PAGES} pages read (the most per refresh); the rest of the log is read by the next refresh, and the counts wait for it`,
      );
    }
    return this.snapshot(now, caughtUp, tally.result());
  }

  /**
   * The entries from `after` on and before `before` (the API's bounds are
   * exclusive; one at or after `before` is left for a later refresh; one
   * older than `after` was read already). Refuses an answer that is not the
   * one asked: entries all older than `after`, or not sorted ascending
   * (reading on from its last entry would skip what lies between).
   */
  private inRange(entries: AuditEntry[], after: number, before: number): AuditEntry[] {
    const fresh = entries.filter((e) => e.ms >= after);
    if (entries.length > 0 && fresh.length === 0) {
      throw new ParseError(`audit-logs: every entry is older than after=${iso(after)}, as asked: the answer is not the one asked for`);
    }
    fresh.forEach((e, i) => {
      if (i > 0 && e.ms < (fresh[i - 1] as AuditEntry).ms) {
        throw new ParseError('audit-logs: the entries are not in ascending order of created_at, as asked (sort=ascending)');
      }
    });
    return fresh.filter((e) => e.ms < before);
  }

  private keep(e: AuditEntry, windowStart: number): void {
    this.cursor = Math.max(this.cursor ?? e.ms, e.ms);
    if (!this.allowed.has(e.eventType) || e.ms <= windowStart || this.kept.has(e.id)) return;
    this.kept.set(e.id, { ms: e.ms, eventType: e.eventType });
    this.latest.set(e.eventType, Math.max(this.latest.get(e.eventType) ?? e.ms, e.ms));
    if (this.kept.size <= this.maxKept) return;
    // Entries arrive oldest first: the first kept is the oldest.
    const [oldestId, oldest] = this.kept.entries().next().value as [string, { ms: number }];
    this.kept.delete(oldestId);
    this.droppedUntil = Math.max(this.droppedUntil ?? oldest.ms, oldest.ms);
  }

  private snapshot(now: number, caughtUp: boolean, unreadable: Unreadable): AuditSnapshot {
    const windowStart = now - AUDIT_WINDOW_MS;
    const whole = caughtUp && (this.droppedUntil === undefined || this.droppedUntil <= windowStart);
    let counts: Map<string, number> | undefined;
    if (whole) {
      counts = new Map(this.eventTypes.map((t) => [t, 0]));
      for (const e of this.kept.values()) if (e.ms > windowStart && e.ms < now) counts.set(e.eventType, (counts.get(e.eventType) ?? 0) + 1);
    }
    return {
      eventTypes: this.eventTypes,
      counts,
      latest: new Map(this.latest),
      readUntil: caughtUp ? now : this.cursor,
      unreadable,
    };
  }
}

export const auditEvents = defineEndpoint({
  id: 'audit_events',
  describe: 'GET audit-logs',
  title: 'audit-logs',
  paths: 'audit-logs',
  intervalGroup: 'billing',
  query: `\`event_type\` (each of \`AUDIT_EVENT_TYPES\`), \`sort=ascending\`, \`after\` (the newest entry read; at first 24 h ago), \`before\` (now), \`limit=${AUDIT_PAGE_LIMIT}\`: page after page, at most ${AUDIT_MAX_PAGES} per refresh`,
  perWorkspace: false,
  families: Object.values(AUDIT_FAMILIES),
  reader: (options): Reader<AuditSnapshot> => {
    const log = new AuditLog(options.auditEventTypes);
    return {
      fetch: (ctx) => log.refresh(ctx),
      toFamilies: auditFamilies,
      unreadable: (s) => s.unreadable ?? {},
    };
  },
});
