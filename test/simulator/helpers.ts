import Big from 'big.js';
import { afterEach } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';

/** Sunday 15 November 2026, 12:00 UTC: a mid-month, partial-day "now". */
export const NOW_MS = Date.UTC(2026, 10, 15, 12, 0, 0);
export const NOW_S = NOW_MS / 1000;
export const DAY_S = 86_400;

const running: Simulator[] = [];

/** Starts a simulator that is closed after the test. */
export async function simulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator({ now: () => NOW_MS, ...options });
  running.push(sim);
  return sim;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

export async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown), headers: response.headers };
}

export function windowQuery(start: number, end: number, extra: Record<string, string> = {}): string {
  return new URLSearchParams({ start_time: String(start), end_time: String(end), ...extra }).toString();
}

export type Json = Record<string, unknown>;

export function asObject(value: unknown): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`not an object: ${JSON.stringify(value)?.slice(0, 200)}`);
  return value as Json;
}

export function asArray(value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new Error(`not an array: ${JSON.stringify(value)?.slice(0, 200)}`);
  return value;
}

export function rowsOf(body: unknown, key = 'data'): Json[] {
  return asArray(asObject(body)[key]).map(asObject);
}

export function sum(rows: readonly Json[], field: string): number {
  return rows.reduce((total, row) => total + (row[field] as number), 0);
}

/** An amount that may arrive as a JSON number or a numeric string, exactly. */
export function exact(value: unknown): Big {
  if (typeof value === 'number') return new Big(String(value));
  if (typeof value === 'string') return new Big(value);
  throw new Error(`not a number or numeric string: ${JSON.stringify(value)}`);
}

/** Required fields, copied from the API reference schemas (billing_schemas.yaml, analytics_schemas.yaml). */
export const REQUIRED = {
  UsageOUTJSON: [
    'completion',
    'ocr',
    'connectors',
    'libraries_api',
    'fine_tuning',
    'audio',
    'audio_characters',
    'vibe_usage',
    'vibe_code',
    'chat',
    'date',
    'previous_month',
    'next_month',
    'start_date',
    'end_date',
    'currency',
    'currency_symbol',
    'prices',
  ],
  LibrariesAPIUsageDataJSON: ['pages', 'tokens', 'audio_seconds'],
  FineTuningDataJSON: ['training', 'storage'],
  VibeCodeUsageDataJSON: ['completion', 'ocr', 'connectors', 'audio', 'audio_characters'],
  PriceData: ['event_type', 'billing_metric', 'billing_group', 'api_zone', 'service_tier', 'price'],
  LimitsOUT: ['limits'],
  LimitsContext: ['completion', 'last_payment_failure', 'last_payment_failure_protection', 'currency'],
  UsageLimits: ['monthly_limit_reached'],
  RateLimitsOUT: ['requests_per_second', 'tokens_limits_by_model'],
  TokenLimitsByModel: ['tokens_per_minute', 'tokens_per_month'],
  WindowOUT: ['start_time', 'end_time', 'data'],
  VibeWorkByUserStat: [
    'messages_count',
    'files_count',
    'images_count',
    'spreadsheets_count',
    'unique_conversations_count',
    'user_id',
    'last_message_at',
    'unique_agents_count',
    'messages_to_agents_count',
  ],
  VibeWorkByAgentStat: [
    'messages_count',
    'files_count',
    'images_count',
    'spreadsheets_count',
    'unique_conversations_count',
    'agent_id',
    'last_message_at',
    'unique_users_count',
  ],
  VibeWorkByTimeStat: [
    'messages_count',
    'files_count',
    'images_count',
    'spreadsheets_count',
    'unique_conversations_count',
    'time_bucket',
    'unique_users_count',
    'messages_to_agents_count',
    'unique_agents_count',
  ],
  VibeWorkspaceStatsOUT: [
    'start_time',
    'end_time',
    'sessions',
    'user_prompts',
    'active_users',
    'consumed_tokens',
    'tool_calls',
    'tool_calls_by_name',
    'session_durations',
  ],
  VibeSessionStat: ['day', 'nb_sessions', 'nb_sessions_cli', 'nb_sessions_acp', 'nb_sessions_programmatic'],
  VibeUserPromptsStat: ['day', 'nb_prompts_total', 'nb_prompts_cli', 'nb_prompts_acp', 'nb_prompts_programmatic'],
  VibeActiveUsersStat: ['day', 'nb_active_users_total', 'nb_active_users_cli', 'nb_active_users_acp', 'nb_active_users_programmatic'],
  VibeConsumedTokensStat: ['day', 'model', 'cached_tokens', 'input_tokens', 'output_tokens'],
  VibeToolCallsStat: [
    'day',
    'total',
    'status_success',
    'status_failure',
    'status_skipped',
    'approval_ask',
    'approval_always',
    'approval_never',
  ],
  VibeToolCallsByNameStat: ['day', 'tool_name', 'count'],
  VibeSessionDurationStat: ['day', 'total_duration_hours'],
  VibeOrganizationStatsOUT: ['start_time', 'end_time', 'next_edit_suggestions', 'next_edit_active_users', 'next_edit_modified_loc'],
  VibeNextEditSuggestionStat: [
    'day',
    'total_suggestions',
    'outcome_accepted',
    'outcome_rejected',
    'outcome_timeout',
    'outcome_aborted',
    'outcome_dismissed',
    'force_generated_true',
    'force_generated_false',
    'surface_widget',
    'surface_ghost_text',
  ],
  VibeNextEditActiveUsersStat: ['day', 'nb_active_users'],
  VibeNextEditModifiedLOCStat: ['day', 'lines_inserted', 'lines_deleted', 'lines_unchanged', 'lines_total'],
} as const;

export function missingFields(value: unknown, required: readonly string[]): string[] {
  const object = asObject(value);
  return required.filter((field) => !(field in object));
}

/** Walks a usage body and yields every entry with the consumer's category name. */
export function* usageEntries(body: unknown): Generator<{ category: string; modelKey: string; group: string; entry: Json }> {
  const root = asObject(body);
  function* walk(node: Json, path: string[]): Generator<{ category: string; modelKey: string; group: string; entry: Json }> {
    if ('models' in node) {
      yield* modelMap(asObject(node['models']), path);
      return;
    }
    for (const [key, child] of Object.entries(node)) {
      if (path.length === 0 && !isCategory(key, child)) continue;
      if (path.join('_') === 'fine_tuning') {
        if (key === 'training') yield* modelMap(asObject(child), [...path, key]);
        continue;
      }
      if (child && typeof child === 'object' && !Array.isArray(child)) yield* walk(child as Json, [...path, key]);
    }
  }
  function* modelMap(models: Json, path: string[]): Generator<{ category: string; modelKey: string; group: string; entry: Json }> {
    for (const [modelKey, groups] of Object.entries(models)) {
      for (const [group, entries] of Object.entries(asObject(groups))) {
        for (const entry of asArray(entries)) yield { category: path.join('_'), modelKey, group, entry: asObject(entry) };
      }
    }
  }
  yield* walk(root, []);
}

const NOT_CATEGORIES = new Set([
  'prices',
  'date',
  'previous_month',
  'next_month',
  'start_date',
  'end_date',
  'currency',
  'currency_symbol',
  'vibe_usage',
]);
function isCategory(key: string, value: unknown): boolean {
  return !NOT_CATEGORIES.has(key) && value !== null && typeof value === 'object' && !Array.isArray(value);
}
