/**
 * Endpoint + query → status and JSON body. Pure given the state passed in;
 * shared by the HTTP server and `Simulator.bodyFor`.
 */
import { ACTOR_TYPES, AUDIT_LOG_EVENT_TYPES, auditEntries, auditLogOut, TARGET_TYPES, type AuditState } from './audit.js';
import { lechatByAgentBody, lechatByTimeBody, lechatByUserBody } from './lechat.js';
import { oddlyEncoded } from './odd-encoding.js';
import type { SimOrg } from './org.js';
import type { SimEndpoint } from './routes.js';
import type { Granularity } from './time.js';
import { yearMonthOf } from './time.js';
import type { ApiZone } from './catalog.js';
import { rateLimitBody, spendLimitBody, spendTruth, usageBody, type JsonObject, type SpendState, type UsageShapes } from './usage.js';
import { vibeByOrganizationBody, vibeByWorkspaceBody } from './vibe.js';
import { workspacesBody, type WorkspaceChanges } from './workspaces.js';
import { apiKeysBody } from './api-keys.js';
import { usersInviteBody } from './invites.js';
import { usersBody } from './users.js';

export interface AnswerContext {
  readonly org: SimOrg;
  readonly spend: SpendState;
  readonly nowSeconds: number;
  readonly shapes?: UsageShapes;
  /** Answer `usage?api_zone=` with every zone's usage, as a server that ignores the filter would. */
  readonly ignoreZoneFilter?: boolean;
  /** The analytics data lake holds activity before this instant only (see `analyticsLoadedUntil`); default: up to now. */
  readonly analyticsLoadedUntilSeconds?: number;
  readonly audit: AuditState;
  /** The clock in ms: audit log instants have milliseconds. */
  readonly nowMs: number;
  /** A server that gives fewer entries per page than `limit` asks (see SimulatorOptions.maxPageSize). */
  readonly maxPageSize?: number;
  /** Workspaces a test added or archived. */
  readonly workspaceChanges?: WorkspaceChanges;
}

const API_ZONES: readonly ApiZone[] = ['global', 'us', 'eu'];

export interface Answer {
  readonly status: number;
  /** An object, or a bare array (audit-logs). */
  readonly body: JsonObject | JsonObject[];
}

export type Query = Readonly<Record<string, string>>;
/** Every value of each query parameter (an array parameter is repeated). */
export type QueryLists = Readonly<Record<string, readonly string[]>>;

/** One FastAPI-style validation error item. */
interface ValidationIssue {
  loc: [string, string];
  msg: string;
  type: string;
}

const GRANULARITIES: readonly Granularity[] = ['hour', 'day', 'week', 'month'];
const INTEGER = /^[+-]?\d+$/;

class QueryReader {
  readonly issues: ValidationIssue[] = [];
  constructor(private readonly query: Query) {}

  private issue(name: string, msg: string, type: string): undefined {
    this.issues.push({ loc: ['query', name], msg, type });
    return undefined;
  }

  integer(name: string, required: boolean, bounds?: { min: number; max: number }): number | undefined {
    const raw = this.query[name];
    if (raw === undefined) return required ? this.issue(name, 'Field required', 'missing') : undefined;
    if (!INTEGER.test(raw.trim()))
      return this.issue(name, 'Input should be a valid integer, unable to parse string as an integer', 'int_parsing');
    const value = Number(raw.trim());
    if (bounds && value < bounds.min)
      return this.issue(name, `Input should be greater than or equal to ${bounds.min}`, 'greater_than_equal');
    if (bounds && value > bounds.max) return this.issue(name, `Input should be less than or equal to ${bounds.max}`, 'less_than_equal');
    return value;
  }

  granularity(): Granularity | undefined {
    const raw = this.query['granularity'];
    if (raw === undefined) return 'day';
    const found = GRANULARITIES.find((g) => g === raw);
    return found ?? this.issue('granularity', "Input should be 'hour', 'day', 'week' or 'month'", 'enum');
  }

  /** FastAPI's reading of a boolean query parameter. */
  boolean(name: string, fallback: boolean): boolean {
    const raw = this.query[name]?.trim().toLowerCase();
    if (raw === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(raw)) return true;
    if (['false', '0', 'no', 'off'].includes(raw)) return false;
    this.issue(name, 'Input should be a valid boolean, unable to interpret input', 'bool_parsing');
    return fallback;
  }

  text(name: string): string | undefined {
    return this.query[name];
  }

  /** An optional enum parameter (FastAPI's 422 `enum` when it is none of the values). */
  choice<T extends string>(name: string, values: readonly T[]): T | undefined {
    const raw = this.query[name];
    if (raw === undefined) return undefined;
    const found = values.find((v) => v === raw);
    return found ?? this.issue(name, `Input should be ${values.map((v) => `'${v}'`).join(', ')}`, 'enum');
  }

  /** An array parameter: every value given, each one of `allowed`. */
  list(name: string, values: readonly string[] | undefined, allowed: readonly string[]): string[] {
    const given = values ?? (this.query[name] === undefined ? [] : [this.query[name] as string]);
    for (const v of given) if (!allowed.includes(v)) this.issue(name, `Input should be one of the ${name} values`, 'enum');
    return [...given];
  }

  /** A date-time parameter as ms since the epoch (no offset: UTC). */
  dateTime(name: string): number | undefined {
    const raw = this.query[name];
    if (raw === undefined) return undefined;
    const ms = parseDateTime(raw);
    return ms ?? this.issue(name, 'Input should be a valid datetime', 'datetime_from_date_parsing');
  }

  rejection(): Answer | undefined {
    return this.issues.length > 0 ? { status: 422, body: { detail: this.issues as unknown as JsonObject[] } } : undefined;
  }
}

/** The window asked; its "now" is the last instant the data lake has loaded, so that unloaded days have no rows at all. */
function window(reader: QueryReader, ctx: AnswerContext) {
  const startSeconds = reader.integer('start_time', true);
  const endSeconds = reader.integer('end_time', true);
  const loadedNow = Math.min(ctx.nowSeconds, (ctx.analyticsLoadedUntilSeconds ?? Number.POSITIVE_INFINITY) - 1);
  return { startSeconds: startSeconds ?? 0, endSeconds: endSeconds ?? 0, nowSeconds: loadedNow };
}

export function answer(ctx: AnswerContext, endpoint: SimEndpoint, query: Query = {}, lists: QueryLists = {}): Answer {
  const reader = new QueryReader(query);
  const ok = (body: JsonObject | JsonObject[]): Answer => ({ status: 200, body });
  // Analytics counts written as strings, signed, with exponents (the oddShapes option); the numbers are the same.
  const analytics = (body: JsonObject): Answer => ok(ctx.shapes?.oddShapes ? oddlyEncoded(body) : body);
  switch (endpoint) {
    case 'usage': {
      const current = yearMonthOf(ctx.nowSeconds);
      const month = reader.integer('month', false, { min: 1, max: 12 });
      const year = reader.integer('year', false, { min: 1, max: 9999 });
      const apiZone = reader.choice('api_zone', API_ZONES);
      return (
        reader.rejection() ??
        ok(
          usageBody(
            ctx.org,
            {
              year: year ?? current.year,
              month: month ?? current.month,
              workspaceId: reader.text('workspace_id'),
              apiZone: ctx.ignoreZoneFilter ? undefined : apiZone,
            },
            ctx.nowSeconds,
            ctx.shapes,
          ),
        )
      );
    }
    case 'spend_limit':
      return ok(spendLimitBody(spendTruth(ctx.org, ctx.spend, ctx.nowSeconds, ctx.shapes)));
    case 'rate_limit':
      return ok(rateLimitBody());
    case 'lechat_by_user': {
      const w = window(reader, ctx);
      return reader.rejection() ?? analytics(lechatByUserBody(ctx.org, w));
    }
    case 'lechat_by_agent': {
      const w = window(reader, ctx);
      return reader.rejection() ?? analytics(lechatByAgentBody(ctx.org, w));
    }
    case 'lechat_by_time': {
      const w = window(reader, ctx);
      const granularity = reader.granularity();
      return reader.rejection() ?? analytics(lechatByTimeBody(ctx.org, w, granularity ?? 'day'));
    }
    case 'vibe_by_workspace': {
      const w = window(reader, ctx);
      return reader.rejection() ?? analytics(vibeByWorkspaceBody(ctx.org, w, reader.text('workspace_id')));
    }
    case 'vibe_by_organization': {
      const w = window(reader, ctx);
      return reader.rejection() ?? analytics(vibeByOrganizationBody(ctx.org, w));
    }
    case 'workspaces': {
      const page = reader.integer('page', false, { min: 1, max: Number.MAX_SAFE_INTEGER });
      const pageSize = reader.integer('page_size', false, { min: 1, max: Number.MAX_SAFE_INTEGER });
      const includeArchived = reader.boolean('is_archived', false);
      return (
        reader.rejection() ??
        ok(workspacesBody(ctx.org, { page: page ?? 1, pageSize: pageSize ?? 25, includeArchived }, ctx.workspaceChanges))
      );
    }
    case 'audit_events': {
      const eventTypes = reader.list('event_type', lists['event_type'], AUDIT_LOG_EVENT_TYPES);
      const actorTypes = reader.list('actor_type', lists['actor_type'], ACTOR_TYPES);
      const targetTypes = reader.list('target_type', lists['target_type'], TARGET_TYPES);
      const afterMs = reader.dateTime('after');
      const beforeMs = reader.dateTime('before');
      const limit = reader.integer('limit', false);
      const sort = reader.text('sort') ?? 'descending';
      if (sort !== 'ascending' && sort !== 'descending') reader.list('sort', [sort], ['ascending', 'descending']);
      const rejected = reader.rejection();
      if (rejected) return rejected;
      const q = {
        eventTypes,
        actorTypes,
        targetTypes,
        actorUserUuid: reader.text('actor_user_uuid'),
        afterMs,
        beforeMs,
        ascending: sort === 'ascending',
        limit: limit ?? 20,
      };
      // The answer is a bare array (`AuditLogOut[]`).
      return ok(auditEntries(ctx.org, ctx.audit, q, ctx.nowMs).map((e) => auditLogOut(ctx.org, e)));
    }
    case 'api_keys': {
      // The schema gives limit and offset no bounds: Python's slicing of the list is what they do.
      const limit = reader.integer('limit', false);
      const offset = reader.integer('offset', false);
      const query = {
        limit: Math.min(limit ?? 100, ctx.maxPageSize ?? Number.POSITIVE_INFINITY),
        offset: offset ?? 0,
        name: reader.text('name'),
      };
      return reader.rejection() ?? ok(apiKeysBody(ctx.org, query, ctx.nowSeconds));
    }
    case 'users': {
      // The schema: page and page_size integers > 0, page_size 25 by default; email filters.
      const page = reader.integer('page', false, { min: 1, max: Number.MAX_SAFE_INTEGER });
      const pageSize = reader.integer('page_size', false, { min: 1, max: Number.MAX_SAFE_INTEGER });
      const query = {
        page: page ?? 1,
        pageSize: Math.min(pageSize ?? 25, ctx.maxPageSize ?? Number.POSITIVE_INFINITY),
        email: reader.text('email'),
      };
      return reader.rejection() ?? ok(usersBody(ctx.org, query, ctx.nowSeconds, ctx.shapes));
    }
    case 'users_invite':
      // A bare array (`OrganizationUserInviteOUT[]`), not paged.
      return ok(usersInviteBody(ctx.org, ctx.nowSeconds, ctx.shapes));
  }
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?([Zz]|[+-]\d{2}:?\d{2})?$/;

/** An ISO 8601 date-time as pydantic reads one; no offset is UTC. Undefined when it is not one. */
function parseDateTime(text: string): number | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59) return undefined;
  const fraction = m[7] === undefined ? 0 : Number(`0.${m[7]}`) * 1000;
  const zone = m[8];
  let offsetMinutes = 0;
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
  }
  return Date.UTC(y, mo - 1, d, h, mi, sec) + fraction - offsetMinutes * 60_000;
}
