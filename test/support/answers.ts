import fc from 'fast-check';
import type { QueryValue } from '../../src/admin-api/types.js';
import type { ApiEndpoint } from '../../src/sources/catalog.js';
import { isObject, type Json, type JsonObject } from '../../src/sources/parse.js';
import { completeDays, DAY_MS, isoDay, lastCompleteDay } from '../../src/sources/windows.js';

/**
 * Answers for the property tests (test/properties.test.ts), built from the
 * schemas in shared/reference/admin-api: a valid answer per endpoint, where
 * its entries are and which of their fields are numbers, and the ways an
 * answer can stray from the schema (wrong types, odd numbers, missing keys).
 */

export type Path = ReadonlyArray<string | number>;

/** A list of entries in an answer: the part of it that one bad entry must not cost more than itself. */
export interface EntryList {
  path: Path;
  /** `array`: the entries are its elements; `map`: its values; `object`: the object itself is one entry (it cannot be removed). */
  kind: 'array' | 'map' | 'object';
  /** Fields (dotted when nested) without which the reader cannot read the entry: it is skipped, never read as 0. */
  required: readonly string[];
  /** Number fields (dotted when nested); those not in `required` are optional: without one, only its own series is absent. */
  numeric: readonly string[];
  /** Number fields of the schema that the exporter does not read (no series depends on them). */
  ignored?: readonly string[];
}

export interface AnswerSchema {
  /** A valid answer for a refresh at `now`: every entry readable, every number positive (so that a 0 is never already there). */
  valid(now: number): fc.Arbitrary<JsonObject>;
  /** The entry lists of a valid answer. */
  lists(body: JsonObject): EntryList[];
  /**
   * Families documented as derived from several fields (e.g. spend `other`
   * = total_usage minus the itemised products): without one of those fields
   * their value may change, but never to a 0.
   */
  derived?: readonly string[];
}

// ---------------------------------------------------------------- values

/** A positive number as the API may send it: a JSON number or a numeric string. */
function sent(n: fc.Arbitrary<number>): fc.Arbitrary<Json> {
  return fc.tuple(n, fc.boolean()).map(([v, asString]) => (asString ? String(v) : v));
}

const count = sent(fc.integer({ min: 1, max: 100_000 }));
/** A positive decimal: an amount, a price (2e-7), hours. */
const amount = sent(fc.tuple(fc.integer({ min: 1, max: 999_999 }), fc.integer({ min: -9, max: 3 })).map(([m, e]) => Number(`${m}e${e}`)));
const bool = fc.boolean();

/** An id or a name: anything non-blank without surrounding space (the readers trim some ids). */
const name = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }).filter((s) => s.trim() === s && s !== ''),
);

function countsOf<const K extends string>(fields: readonly K[]): fc.Arbitrary<Record<K, Json>> {
  return fc.record(Object.fromEntries(fields.map((f) => [f, count]))) as unknown as fc.Arbitrary<Record<K, Json>>;
}

function rows<T extends JsonObject>(row: fc.Arbitrary<T>, key?: (r: T) => unknown): fc.Arbitrary<T[]> {
  return key ? fc.uniqueArray(row, { minLength: 1, maxLength: 5, selector: key }) : fc.array(row, { minLength: 1, maxLength: 5 });
}

/** An answer as generated, typed as the JSON it is. */
const json = (a: fc.Arbitrary<unknown>) => a as fc.Arbitrary<JsonObject>;

const isoSeconds = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

// ---------------------------------------------------------------- billing

/** Spend in cents: usage, vibe_usage and a rest, so that total_usage is at least their sum, as consistent figures are. */
const cents = fc.integer({ min: 1, max: 10_000_000 });

const spendLimit: AnswerSchema = {
  valid: () =>
    json(
      fc
        .record({
          spend: fc.tuple(cents, cents, cents),
          no_monthly_limit: bool,
          monthly_limit_reached: bool,
          usage_limit: amount,
          last_payment_failure: bool,
          last_payment_failure_protection: fc.option(bool),
          currency: fc.constantFrom('EUR', 'USD', 'eur'),
        })
        .map(({ spend: [api, vibe, rest], no_monthly_limit, monthly_limit_reached, usage_limit, ...limits }) => ({
          limits: {
            completion: {
              no_monthly_limit,
              monthly_limit_reached,
              usage: api / 100,
              vibe_usage: vibe / 100,
              total_usage: (api + vibe + rest) / 100,
              usage_limit,
            },
            ...limits,
          },
        })),
    ),
  lists: () => [
    { path: ['limits', 'completion'], kind: 'object', required: [], numeric: ['usage', 'vibe_usage', 'total_usage', 'usage_limit'] },
  ],
  derived: ['mistral_spend', 'mistral_spend_projected', 'mistral_spend_limit_utilization_ratio'],
};

const rateLimit: AnswerSchema = {
  valid: () => {
    const limits = fc.record({ tokens_per_minute: count, tokens_per_month: count });
    return json(
      fc.record({
        requests_per_second: count,
        tokens_limits_by_model: fc.oneof(
          fc.dictionary(name, limits, { minKeys: 1, maxKeys: 5 }),
          // The docs' own example: an array of objects naming their model.
          rows(
            fc.record({ model: name }).chain((m) => limits.map((l) => ({ ...m, ...l }))),
            (r) => r.model,
          ),
        ),
      }),
    );
  },
  lists: (body) => [
    { path: [], kind: 'object', required: [], numeric: ['requests_per_second'] },
    Array.isArray(body.tokens_limits_by_model)
      ? { path: ['tokens_limits_by_model'], kind: 'array', required: ['model'], numeric: ['tokens_per_minute', 'tokens_per_month'] }
      : { path: ['tokens_limits_by_model'], kind: 'map', required: [], numeric: ['tokens_per_minute', 'tokens_per_month'] },
  ],
};

const workspaces: AnswerSchema = {
  valid: () =>
    json(
      rows(
        fc.record({
          uuid: fc.uuid(),
          name,
          members_count: count,
          spend_limit: fc.option(fc.record({ value: amount, currency: fc.constantFrom('EUR', 'USD'), no_monthly_limit: bool }), {
            nil: null,
          }),
        }),
        (w) => w.uuid,
      ).map((items) => ({ total: items.length, items, page: 1, page_size: 100 })),
    ),
  lists: () => [{ path: ['items'], kind: 'array', required: ['uuid', 'name'], numeric: ['members_count', 'spend_limit.value'] }],
};

const USAGE_EVENTS = [
  'api_tokens',
  'api_pages',
  'api_audio_seconds',
  'api_audio_characters',
  'api_connectors',
  'gpu_hour',
  'reserved_instance',
];
const USAGE_MODELS = ['mistral-large-latest::mistral-large-2411', 'mistral-small-2503', 'ocr-latest::mistral-ocr-2505'];
const USAGE_GROUPS = ['input', 'output', 'cached'];

function usageEntries(model: string, group: string, now: number): fc.Arbitrary<JsonObject[]> {
  const day = isoDay(Math.floor(now / 1000));
  const dated = model.includes('::') ? model.slice(model.indexOf('::') + 2) : model;
  return rows(
    fc.record({
      usage_type: fc.constant('api'),
      event_type: fc.constantFrom(...USAGE_EVENTS),
      billing_metric: fc.constant(dated),
      billing_display_name: fc.constant(dated),
      billing_group: fc.constant(group),
      timestamp: fc.constant(day),
      value: amount,
      value_paid: amount,
    }),
  );
}

/** A model map `{MODEL: {GROUP: [entry]}}`, as found under a category's `models` (or bare, as fine_tuning.training). */
function usageModels(now: number): fc.Arbitrary<JsonObject> {
  return fc
    .uniqueArray(fc.tuple(fc.constantFrom(...USAGE_MODELS), fc.constantFrom(...USAGE_GROUPS)), {
      minLength: 1,
      maxLength: 3,
      selector: ([m, g]) => `${m} ${g}`,
    })
    .chain((pairs) => fc.tuple(...pairs.map(([m, g]) => usageEntries(m, g, now).map((e) => [m, g, e] as const))))
    .map((lists) => {
      const models: Record<string, Record<string, JsonObject[]>> = {};
      for (const [m, g, e] of lists) (models[m] ??= {})[g] = e;
      return models;
    });
}

const usage: AnswerSchema = {
  valid: (now) => {
    const d = new Date(now);
    const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - 1000;
    const models = usageModels(now);
    return json(
      fc
        .record({
          completion: models.map((m) => ({ models: m })),
          ocr: fc.option(
            models.map((m) => ({ models: m })),
            { nil: undefined },
          ),
          libraries_api: fc.option(
            models.map((m) => ({ pages: { models: m }, tokens: { models: {} }, audio_seconds: { models: {} } })),
            { nil: undefined },
          ),
          fine_tuning: fc.option(
            models.map((m) => ({ training: m, storage: { 'ft:model': 3 } })),
            { nil: undefined },
          ),
          vibe_code: fc.option(
            models.map((m) => ({ completion: { models: m } })),
            { nil: undefined },
          ),
          // A top-level category that is itself a model map (no `models` wrapper).
          dedicated_deployments: fc.option(models, { nil: undefined }),
        })
        .chain((categories) => {
          const body = JSON.parse(JSON.stringify(categories)) as JsonObject;
          // A price for some of the (event type, model, group) the entries name.
          const combos = new Map<string, JsonObject>();
          for (const list of usageLists(body)) {
            for (const e of at(body, list.path) as JsonObject[]) {
              const key = [e.event_type, e.billing_metric, e.billing_group].join(' ');
              combos.set(key, {
                event_type: e.event_type ?? null,
                billing_metric: e.billing_metric ?? null,
                billing_group: e.billing_group ?? null,
              });
            }
          }
          const prices = fc.subarray([...combos.values()]).chain((chosen) =>
            fc.tuple(
              ...chosen.map((p) =>
                fc
                  .record({
                    api_zone: fc.constantFrom('global', 'eu'),
                    service_tier: fc.constantFrom('standard', 'priority'),
                    price: amount,
                  })
                  .map((rest) => ({ ...p, ...rest })),
              ),
            ),
          );
          return fc.tuple(prices, fc.constantFrom('EUR', 'USD', null)).map(([p, currency]) => ({
            ...body,
            vibe_usage: 0,
            date: isoSeconds(now),
            start_date: isoSeconds(start),
            end_date: isoSeconds(end),
            currency,
            currency_symbol: currency === null ? '€' : null,
            prices: p,
          }));
        }),
    );
  },
  lists: (body) => [
    ...usageLists(body),
    { path: ['prices'], kind: 'array', required: ['price'], numeric: ['price'] },
    { path: [], kind: 'object', required: [], numeric: ['vibe_usage'] },
  ],
};

/** The entry arrays of a usage answer's categories. */
function usageLists(body: JsonObject): EntryList[] {
  const out: EntryList[] = [];
  const models = (path: Path, m: Json | undefined) => {
    if (!isObject(m)) return;
    for (const [model, groups] of Object.entries(m)) {
      if (!isObject(groups)) continue;
      for (const [group, list] of Object.entries(groups)) {
        if (Array.isArray(list))
          out.push({ path: [...path, model, group], kind: 'array', required: ['value', 'value_paid'], numeric: ['value', 'value_paid'] });
      }
    }
  };
  for (const [key, category] of Object.entries(body)) {
    if (!isObject(category) || key === 'prices') continue;
    if (isObject(category.models)) models([key, 'models'], category.models);
    else if (key === 'dedicated_deployments') models([key], category);
    else
      for (const [sub, value] of Object.entries(category)) {
        if (!isObject(value)) continue;
        if (isObject(value.models)) models([key, sub, 'models'], value.models);
        else if (sub === 'training') models([key, sub], value);
      }
  }
  return out;
}

// ---------------------------------------------------------------- le Chat

const LECHAT_COUNTS = ['messages_count', 'files_count', 'images_count', 'spreadsheets_count', 'unique_conversations_count'] as const;

/** A le Chat answer: the window asked for is echoed (see `serve`), the rows are in `data`. */
function lechat(row: (now: number) => fc.Arbitrary<JsonObject>, key: string): (now: number) => fc.Arbitrary<JsonObject> {
  return (now) =>
    rows(row(now), (r) => r[key]).map((data) => ({ start_time: Math.floor(now / 1000) - 86_400, end_time: Math.floor(now / 1000), data }));
}

const lastMessageAt = (now: number) =>
  fc.integer({ min: 0, max: 29 * DAY_MS }).map((ago) => isoSeconds(Math.floor((now - ago) / 1000) * 1000));

const lechatByUser: AnswerSchema = {
  valid: lechat(
    (now) =>
      fc
        .tuple(
          fc.record({ user_id: name, last_message_at: lastMessageAt(now) }),
          countsOf([...LECHAT_COUNTS, 'unique_agents_count', 'messages_to_agents_count']),
        )
        .map(([r, c]) => ({ ...r, ...c })),
    'user_id',
  ),
  lists: () => [
    {
      path: ['data'],
      kind: 'array',
      required: ['user_id', ...LECHAT_COUNTS, 'messages_to_agents_count'],
      numeric: [...LECHAT_COUNTS, 'messages_to_agents_count', 'unique_agents_count'],
      ignored: ['unique_agents_count'],
    },
  ],
};

const lechatByAgent: AnswerSchema = {
  valid: lechat(
    (now) =>
      fc
        .tuple(fc.record({ agent_id: name, last_message_at: lastMessageAt(now) }), countsOf([...LECHAT_COUNTS, 'unique_users_count']))
        .map(([r, c]) => ({ ...r, ...c })),
    'agent_id',
  ),
  lists: () => [
    {
      path: ['data'],
      kind: 'array',
      required: ['agent_id', ...LECHAT_COUNTS, 'unique_users_count'],
      numeric: [...LECHAT_COUNTS, 'unique_users_count'],
    },
  ],
};

const TIME_COUNTS = [...LECHAT_COUNTS, 'unique_users_count', 'messages_to_agents_count', 'unique_agents_count'] as const;

const lechatByTime: AnswerSchema = {
  valid: lechat((now) => {
    const yesterday = lastCompleteDay(now);
    const days = [yesterday, ...completeDays(now, 5)];
    return fc
      .tuple(fc.constantFrom(...days), fc.constantFrom('T00:00:00Z', 'T00:00:00', 'T00:00:00.000+00:00'), countsOf(TIME_COUNTS))
      .map(([day, time, c]) => ({ time_bucket: `${day}${time}`, ...c }));
  }, 'time_bucket'),
  lists: () => [
    {
      path: ['data'],
      kind: 'array',
      required: ['time_bucket', 'unique_users_count'],
      numeric: TIME_COUNTS,
      ignored: TIME_COUNTS.filter((f) => f !== 'unique_users_count'),
    },
  ],
};

// ---------------------------------------------------------------- Vibe Code

/** The days a Vibe row may name: the last 30 complete UTC days, today (partial, never counted) and one older day. */
function vibeDays(now: number): string[] {
  const today = isoDay(Math.floor(now / DAY_MS) * 86_400);
  return [...completeDays(now, 31), today];
}

interface VibeArray {
  field: string;
  /** The row's name field, when it has one (a model, a tool). */
  key?: string;
  counts: readonly string[];
  /** Number fields of the schema that the exporter does not read. */
  unread?: readonly string[];
}

function vibe(arrays: readonly VibeArray[]): AnswerSchema {
  return {
    valid: (now) => {
      const day = fc.constantFrom(...vibeDays(now));
      const record = (a: VibeArray) =>
        fc
          .tuple(
            day,
            a.key ? fc.constantFrom('devstral-latest', 'codestral-2501', 'bash', 'read_file') : fc.constant(undefined),
            countsOf([...a.counts, ...(a.unread ?? [])]),
          )
          .map(([d, k, c]): JsonObject => ({ day: d, ...(a.key && k ? { [a.key]: k } : {}), ...c }));
      return json(
        fc.record(Object.fromEntries(arrays.map((a) => [a.field, rows(record(a))]))).map((a) => ({ start_time: 0, end_time: 0, ...a })),
      );
    },
    lists: () =>
      arrays.map((a) => ({
        path: [a.field],
        kind: 'array',
        required: ['day', ...(a.key ? [a.key] : []), ...a.counts],
        numeric: [...a.counts, ...(a.unread ?? [])],
        ignored: a.unread ?? [],
      })),
  };
}

const vibeByWorkspace = vibe([
  { field: 'sessions', counts: ['nb_sessions', 'nb_sessions_cli', 'nb_sessions_acp', 'nb_sessions_programmatic'] },
  { field: 'user_prompts', counts: ['nb_prompts_total', 'nb_prompts_cli', 'nb_prompts_acp', 'nb_prompts_programmatic'] },
  {
    field: 'active_users',
    counts: ['nb_active_users_total', 'nb_active_users_cli', 'nb_active_users_acp', 'nb_active_users_programmatic'],
  },
  { field: 'consumed_tokens', key: 'model', counts: ['input_tokens', 'output_tokens', 'cached_tokens'] },
  {
    field: 'tool_calls',
    counts: ['status_success', 'status_failure', 'status_skipped', 'approval_ask', 'approval_always', 'approval_never'],
    unread: ['total'],
  },
  { field: 'tool_calls_by_name', key: 'tool_name', counts: ['count'] },
  { field: 'session_durations', counts: ['total_duration_hours'] },
]);

const vibeByOrganization = vibe([
  {
    field: 'next_edit_suggestions',
    counts: [
      'outcome_accepted',
      'outcome_rejected',
      'outcome_timeout',
      'outcome_aborted',
      'outcome_dismissed',
      'surface_widget',
      'surface_ghost_text',
    ],
    unread: ['total_suggestions', 'force_generated_true', 'force_generated_false'],
  },
  { field: 'next_edit_active_users', counts: ['nb_active_users'] },
  { field: 'next_edit_modified_loc', counts: ['lines_inserted', 'lines_deleted', 'lines_unchanged'], unread: ['lines_total'] },
]);

// ---------------------------------------------------------------- audit log

const AUDIT_TYPES = ['billing.monthly_limit.updated', 'api_key.rotate', 'workspace.member.add', 'user.log_in', 'agent.update'];

/**
 * A bare array of `AuditLogOut`, oldest first, all in the 24 hours before
 * `now` (what the reader asks for first); `created_at` as FastAPI or
 * JavaScript write it. Every request is answered with the same array: the
 * reader's next page (after its newest entry) finds nothing new in it.
 */
const auditEvents: AnswerSchema = {
  valid: (now) =>
    json(
      fc
        .uniqueArray(
          fc.record({
            ago: fc.integer({ min: 1, max: 86_399_999 }),
            log_id: sent(fc.integer({ min: 1, max: 2 ** 40 })),
            event_type: fc.constantFrom(...AUDIT_TYPES),
            format: fc.constantFrom('Z', '+00:00', 'micro'),
            workspace_uuid: fc.option(fc.uuid(), { nil: null }),
          }),
          { minLength: 1, maxLength: 5, selector: (e) => String(e.log_id) },
        )
        .map((entries) =>
          entries
            .sort((a, b) => b.ago - a.ago)
            .map(({ ago, format, ...e }) => {
              const iso = new Date(now - ago).toISOString();
              const created_at = format === 'Z' ? iso : format === '+00:00' ? iso.replace('Z', '+00:00') : iso.replace('Z', '000+00:00');
              return {
                created_at,
                actor_type: 'HUMAN',
                actor_metadata: { email: 'someone@example.com' },
                event_metadata: {},
                target_type: 'API_KEY',
                target_metadata: {},
                organization_uuid: null,
                ...e,
              };
            }),
        ),
    ),
  lists: () => [{ path: [], kind: 'array', required: ['log_id', 'created_at', 'event_type'], numeric: ['log_id'] }],
};

// ---------------------------------------------------------------- API keys

const API_KEY_DATES = ['created_at', 'expiration_date', 'last_used'] as const;

/** APIKeysExtendedOUT: every field the schema requires, null where it allows; dates around `now`. */
const apiKeys: AnswerSchema = {
  valid: (now) => {
    const day = (ms: number) => isoDay(Math.floor(ms / 1000));
    const around = fc.integer({ min: -400, max: 400 }).map((d) => now + d * DAY_MS);
    const action = fc.option(fc.constantFrom<Json>({ status: 'available' }, { status: 'unavailable', reason: 'not_allowed' }), {
      nil: null,
    });
    return json(
      rows(
        fc.record({
          key_id: fc.uuid(),
          key: fc.constant(null),
          name: fc.option(name, { nil: null }),
          hidden_key: fc.constant('HQSx...Ug6Y'),
          created_at: fc.option(
            around.map((ms) => isoSeconds(Math.floor(Math.min(ms, now) / 1000) * 1000)),
            { nil: null },
          ),
          expiration_date: fc.option(around.map(day), { nil: null }),
          actions: fc.record({ rotate: action, delete: action }),
          workspace_id: fc.option(fc.uuid(), { nil: null }),
          workspace_name: fc.option(name, { nil: null }),
          created_by: fc.option(fc.constantFrom('alice.martin@example.com', 'api-key'), { nil: null }),
          product: fc.option(fc.constantFrom('API', 'Mistral Code', 'Vibe'), { nil: null }),
          last_used: fc.option(
            around.map((ms) => day(Math.min(ms, now))),
            { nil: null },
          ),
          can_delete: fc.option(bool, { nil: null }),
        }),
        (k) => k.key_id,
      ).map((keys) => ({ keys })),
    );
  },
  // The dates are what its series are made of: absent or unreadable, they are what a number is to the others.
  lists: () => [{ path: ['keys'], kind: 'array', required: ['key_id'], numeric: API_KEY_DATES }],
  // API_KEYS_LIMIT keeps the keys that expire soonest: without an expiry, another key may be kept in its place.
  derived: [
    'mistral_api_key_expiry_timestamp_seconds',
    'mistral_api_key_last_used_timestamp_seconds',
    'mistral_api_key_created_timestamp_seconds',
  ],
};

// ---------------------------------------------------------------- users and invitations

const SUBSCRIPTION = fc.record({
  type: fc.constantFrom('API', 'CHAT', 'ON_PREMISE', 'LICENSE', 'MISTRAL_CODE'),
  plan: fc.option(fc.constantFrom('FREE', 'PAY_AS_YOU_GO', 'INDIVIDUAL', 'EDU', 'TEAM', 'ENTERPRISE'), { nil: null }),
  status: fc.option(fc.constantFrom('NS', 'S', 'A', 'CF', 'CG', 'C', 'GP'), { nil: null }),
  user: fc.option(fc.uuid(), { nil: null }),
  self_service: fc.option(bool, { nil: null }),
  member_has_access: fc.option(bool, { nil: null }),
});

/** OrganizationAdminUsersOUT: members (AdminOrganizationMemberOUT) and invitations (OrganizationInviteOUT) on one page. */
const users: AnswerSchema = {
  valid: (now) => {
    const before = fc.integer({ min: 0, max: 2000 }).map((d) => isoSeconds(Math.floor((now - d * DAY_MS) / 1000) * 1000));
    const members = rows(
      fc.record({
        uuid: fc.uuid(),
        oid_id: fc.option(fc.uuid(), { nil: null }),
        name: fc.option(name, { nil: null }),
        email: fc.option(fc.constant('alice.martin@example.com'), { nil: null }),
        is_sso_outsider: fc.option(bool, { nil: null }),
        workspaces: fc.constant(null),
        subscriptions: fc.array(SUBSCRIPTION, { maxLength: 3 }),
        raw_roles: fc.constant(['M']),
        raw_role: fc.constant('M'),
        subscription_types: fc.option(fc.subarray(['CHAT', 'MISTRAL_CODE']), { nil: null }),
        created_at: before,
      }),
      (m) => m.uuid,
    );
    const invites = rows(
      fc.record({
        uuid: fc.uuid(),
        raw_roles: fc.constant(['M']),
        raw_role: fc.constant('M'),
        email: fc.constant('bob@example.com'),
        expired: bool,
        created_at: before,
        workspace_uuids: fc.constant([]),
      }),
      (i) => i.uuid,
    );
    return json(
      fc.tuple(members, invites).map(([m, i]) => ({ members: m, invites: i, total: m.length + i.length, page: 1, page_size: 100 })),
    );
  },
  // created_at only shapes the idle seats (with le Chat's activity, which a reader alone does not have).
  lists: () => [
    { path: ['members'], kind: 'array', required: ['uuid'], numeric: ['created_at'] },
    { path: ['invites'], kind: 'array', required: ['uuid', 'expired'], numeric: [] },
  ],
};

/** OrganizationUserInviteOUT[]: a bare array. */
const usersInvite: AnswerSchema = {
  valid: () =>
    json(
      rows(
        fc.record({
          invite_uuid: fc.uuid(),
          email: fc.option(fc.constant('bob@example.com'), { nil: null }),
          roles: fc.constant(['M']),
          role: fc.constant('M'),
        }),
        (i) => i.invite_uuid,
      ),
    ),
  lists: () => [{ path: [], kind: 'array', required: ['invite_uuid'], numeric: [] }],
};

/** One per endpoint of the catalog: an endpoint added without one does not compile. */
export const SCHEMAS: Record<ApiEndpoint, AnswerSchema> = {
  spend_limit: spendLimit,
  usage,
  rate_limit: rateLimit,
  workspaces,
  api_keys: apiKeys,
  lechat_by_user: lechatByUser,
  lechat_by_agent: lechatByAgent,
  lechat_by_time: lechatByTime,
  vibe_by_workspace: vibeByWorkspace,
  vibe_by_organization: vibeByOrganization,
  audit_events: auditEvents,
  users,
  users_invite: usersInvite,
};

/**
 * The body served for one request: the answer as generated, with the window
 * asked for echoed in `start_time`/`end_time` when it has those fields (the
 * analytics answers echo it).
 */
export function serve(body: unknown, query: Readonly<Record<string, QueryValue>> | undefined): unknown {
  if (!isObject(body) || query?.start_time === undefined) return body;
  const echoed: JsonObject = { ...body };
  for (const field of ['start_time', 'end_time'] as const) {
    const asked = query[field];
    if (field in body && (typeof asked === 'number' || typeof asked === 'string')) echoed[field] = asked;
  }
  return echoed;
}

// ---------------------------------------------------------------- paths

export function at(body: Json, path: Path): Json | undefined {
  let v: Json | undefined = body;
  for (const k of path) v = isObject(v) ? v[k] : Array.isArray(v) && typeof k === 'number' ? v[k] : undefined;
  return v;
}

/** The entries of a list, by the key that names each in its container (an index, a map key, or none for `object`). */
export function entriesOf(body: Json, list: EntryList): Array<{ key: string | number | undefined; entry: Json }> {
  const v = at(body, list.path);
  if (list.kind === 'object') return v === undefined ? [] : [{ key: undefined, entry: v }];
  if (list.kind === 'array') return Array.isArray(v) ? v.map((entry, key) => ({ key, entry })) : [];
  return isObject(v) ? Object.entries(v).map(([key, entry]) => ({ key, entry })) : [];
}

/** A deep copy of `body` with `change` applied to the container at `path` (a JSON answer holds no shared nodes). */
export function edit(body: JsonObject, path: Path, change: (container: Json | undefined) => Json | undefined): JsonObject {
  const copy = structuredClone(body);
  if (path.length === 0) return change(copy) as JsonObject;
  const parent = at(copy, path.slice(0, -1));
  const last = path[path.length - 1] as string | number;
  if (Array.isArray(parent) && typeof last === 'number') parent[last] = change(parent[last]) as Json;
  else if (isObject(parent)) setOwn(parent, String(last), change(parent[last]));
  return copy;
}

/** Sets (or with undefined, deletes) an own key, as JSON.parse would make it even for `__proto__`. */
export function setOwn(o: JsonObject, key: string, value: Json | undefined): void {
  if (value === undefined) delete o[key];
  else Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The entry at `key` of the list replaced by `entry`. */
export function withEntry(body: JsonObject, list: EntryList, key: string | number | undefined, entry: Json): JsonObject {
  return edit(body, key === undefined ? list.path : [...list.path, key], () => entry);
}

/** The entries at `keys` of the list removed. */
export function withoutEntries(body: JsonObject, list: EntryList, keys: ReadonlyArray<string | number | undefined>): JsonObject {
  return edit(body, list.path, (container) => {
    if (Array.isArray(container)) return container.filter((_, i) => !keys.includes(i));
    if (isObject(container)) return Object.fromEntries(Object.entries(container).filter(([k]) => !keys.includes(k)));
    return container;
  });
}

/** The field (dotted when nested) of an entry deleted, or set to null. */
export function withoutField(entry: Json, field: string, how: 'delete' | 'null'): Json {
  const copy = structuredClone(entry);
  const parts = field.split('.');
  const parent = at(copy, parts.slice(0, -1));
  if (isObject(parent)) setOwn(parent, parts[parts.length - 1] as string, how === 'delete' ? undefined : null);
  return copy;
}

// ---------------------------------------------------------------- straying from the schema

/** Numbers as strings that a reader must read or refuse: signs, exponents, absurd magnitudes, and things that only look like numbers. */
const ODD_NUMBER_STRINGS = [
  '+5E-7',
  '1e400',
  '-1e400',
  '1E308',
  '1.8e308',
  '-0',
  '-0.0',
  '0',
  '1e-400',
  '5e-324',
  '9'.repeat(400),
  `0.${'0'.repeat(400)}1`,
  '1e999999999',
  '1e-999999999',
  '+1e+999999999',
  ' 42 ',
  '4.',
  '.5',
  '+.5e+3',
  '9007199254740993',
  'NaN',
  'Infinity',
  '-Infinity',
  '0x1F',
  '1_000',
  '1,5',
  '',
  ' ',
  '١٢',
  '1e',
  'e5',
  '--1',
  '1.2.3',
  '12abc',
];

/** A decimal string of any sign, length and exponent. */
const decimalString = fc
  .tuple(
    fc.constantFrom('', '+', '-'),
    fc.stringMatching(/^\d{1,30}$/),
    fc.option(fc.stringMatching(/^\.\d{0,30}$/), { nil: '' }),
    fc.option(
      fc
        .tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.oneof(fc.integer({ min: 0, max: 400 }), fc.nat()))
        .map((p) => p.join('')),
      { nil: '' },
    ),
  )
  .map((p) => p.join(''));

/** A value where a number is expected: odd strings, any finite double (-0 included), unsafe integers. */
export const oddNumber: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(...ODD_NUMBER_STRINGS, 1e308, -1e308, Number.MAX_VALUE, Number.MIN_VALUE, -0, 2 ** 53 + 2),
  decimalString,
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
);

/** Any value an answer may hold instead of the one the schema says. */
export const strayValue: fc.Arbitrary<Json> = fc.oneof(
  oddNumber,
  fc.constant(null),
  fc.boolean(),
  fc.string({ maxLength: 6 }),
  fc.constantFrom<Json>([], {}),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

const KEYS = [
  'models',
  'data',
  'items',
  'total',
  'limits',
  'completion',
  'day',
  'value',
  'price',
  'model',
  '__proto__',
  'constructor',
  'toString',
];

const OPS = ['replace', 'number', 'delete', 'null', 'toArray', 'toObject', 'extraKey', 'duplicate', 'empty'] as const;

export interface Stray {
  /** Which node of the answer (an index into all its nodes, modulo their count). */
  node: number;
  op: (typeof OPS)[number];
  value: Json;
  key: string;
}

export const stray: fc.Arbitrary<Stray> = fc.record({
  node: fc.nat(),
  op: fc.constantFrom(...OPS),
  value: strayValue,
  key: fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 6 })),
});

function nodes(v: Json, path: Path = [], out: Path[] = []): Path[] {
  out.push(path);
  if (Array.isArray(v)) for (const [i, x] of v.entries()) nodes(x, [...path, i], out);
  else if (isObject(v)) for (const [k, x] of Object.entries(v)) nodes(x, [...path, k], out);
  return out;
}

/** The answer with one node changed: replaced, deleted, nulled, turned from object to array or back, given an extra key, duplicated, emptied. */
export function applyStray(body: Json, s: Stray): Json {
  const all = nodes(body);
  const path = all[s.node % all.length] as Path;
  const root: JsonObject = { answer: structuredClone(body) };
  const full: Path = ['answer', ...path];
  const parent = at(root, full.slice(0, -1));
  const last = full[full.length - 1] as string | number;
  const current = at(root, full) as Json;
  const set = (value: Json | undefined) => {
    if (Array.isArray(parent) && typeof last === 'number') {
      if (value === undefined) parent.splice(last, 1);
      else parent[last] = value;
    } else if (isObject(parent)) setOwn(parent, String(last), value);
  };
  switch (s.op) {
    case 'replace':
      set(s.value);
      break;
    case 'number':
      // Not String(): a value may be {"toString": 0}, as JSON allows.
      set(typeof s.value === 'string' || typeof s.value === 'number' ? s.value : JSON.stringify(s.value));
      break;
    case 'delete':
      set(undefined);
      break;
    case 'null':
      set(null);
      break;
    case 'toArray':
      set(isObject(current) ? Object.values(current) : [current]);
      break;
    case 'toObject':
      set(Array.isArray(current) ? Object.fromEntries(current.map((x, i) => [String(i), x])) : { [s.key]: current });
      break;
    case 'extraKey':
      if (isObject(current)) setOwn(current, s.key, s.value);
      else if (Array.isArray(current)) current.push(s.value);
      break;
    case 'duplicate':
      // A second copy of an entry: the same array element again, or the same map value under a key that trims to the same.
      if (Array.isArray(current) && current.length > 0) current.push(structuredClone(current[s.node % current.length] as Json));
      else if (isObject(current)) {
        const keys = Object.keys(current);
        const k = keys[s.node % Math.max(1, keys.length)];
        if (k !== undefined) setOwn(current, `${k} `, structuredClone(current[k] as Json));
      }
      break;
    case 'empty':
      set(Array.isArray(current) ? [] : isObject(current) ? {} : '');
      break;
  }
  return root.answer ?? null;
}
