/**
 * Endpoint + query → status and JSON body. Pure given the state passed in;
 * shared by the HTTP server and `Simulator.bodyFor`.
 */
import { lechatByAgentBody, lechatByTimeBody, lechatByUserBody } from './lechat.js';
import type { SimOrg } from './org.js';
import type { SimEndpoint } from './routes.js';
import type { Granularity } from './time.js';
import { yearMonthOf } from './time.js';
import type { ApiZone } from './catalog.js';
import { rateLimitBody, spendLimitBody, spendTruth, usageBody, type JsonObject, type SpendState, type UsageShapes } from './usage.js';
import { vibeByOrganizationBody, vibeByWorkspaceBody } from './vibe.js';
import { workspacesBody } from './workspaces.js';
import { apiKeysBody } from './api-keys.js';

export interface AnswerContext {
  readonly org: SimOrg;
  readonly spend: SpendState;
  readonly nowSeconds: number;
  readonly shapes?: UsageShapes;
  /** Answer `usage?api_zone=` with every zone's usage, as a server that ignores the filter would. */
  readonly ignoreZoneFilter?: boolean;
  /** The analytics data lake holds activity before this instant only (see `analyticsLoadedUntil`); default: up to now. */
  readonly analyticsLoadedUntilSeconds?: number;
}

const API_ZONES: readonly ApiZone[] = ['global', 'us', 'eu'];

export interface Answer {
  readonly status: number;
  readonly body: JsonObject;
}

export type Query = Readonly<Record<string, string>>;

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

export function answer(ctx: AnswerContext, endpoint: SimEndpoint, query: Query = {}): Answer {
  const reader = new QueryReader(query);
  const ok = (body: JsonObject): Answer => ({ status: 200, body });
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
      return reader.rejection() ?? ok(lechatByUserBody(ctx.org, w));
    }
    case 'lechat_by_agent': {
      const w = window(reader, ctx);
      return reader.rejection() ?? ok(lechatByAgentBody(ctx.org, w));
    }
    case 'lechat_by_time': {
      const w = window(reader, ctx);
      const granularity = reader.granularity();
      return reader.rejection() ?? ok(lechatByTimeBody(ctx.org, w, granularity ?? 'day'));
    }
    case 'vibe_by_workspace': {
      const w = window(reader, ctx);
      return reader.rejection() ?? ok(vibeByWorkspaceBody(ctx.org, w, reader.text('workspace_id')));
    }
    case 'vibe_by_organization': {
      const w = window(reader, ctx);
      return reader.rejection() ?? ok(vibeByOrganizationBody(ctx.org, w));
    }
    case 'workspaces': {
      const page = reader.integer('page', false, { min: 1, max: Number.MAX_SAFE_INTEGER });
      const pageSize = reader.integer('page_size', false, { min: 1, max: Number.MAX_SAFE_INTEGER });
      const includeArchived = reader.boolean('is_archived', false);
      return reader.rejection() ?? ok(workspacesBody(ctx.org, { page: page ?? 1, pageSize: pageSize ?? 25, includeArchived }));
    }
    case 'api_keys': {
      // The schema gives limit and offset no bounds: Python's slicing of the list is what they do.
      const limit = reader.integer('limit', false);
      const offset = reader.integer('offset', false);
      const query = { limit: limit ?? 100, offset: offset ?? 0, name: reader.text('name') };
      return reader.rejection() ?? ok(apiKeysBody(ctx.org, query, ctx.nowSeconds));
    }
  }
}
