/**
 * The fixed product catalogue of the simulated organisation: models, the
 * usage lines the billing endpoint reports, unit prices and rate limits.
 * Figures are invented but shaped like Mistral's public price list (EUR).
 */

export interface ModelSpec {
  /** Alias the user calls, e.g. `mistral-large-latest`. */
  readonly alias: string;
  /** Dated id billed, e.g. `mistral-large-2411` (`billing_metric`). */
  readonly id: string;
  readonly displayName: string;
}

const model = (alias: string, id: string, displayName: string): ModelSpec => ({ alias, id, displayName });

export const MODELS = {
  large: model('mistral-large-latest', 'mistral-large-2411', 'Mistral Large 24.11'),
  medium: model('mistral-medium-latest', 'mistral-medium-2505', 'Mistral Medium 3'),
  small: model('mistral-small-latest', 'mistral-small-2503', 'Mistral Small 3.1'),
  codestral: model('codestral-latest', 'codestral-2501', 'Codestral 25.01'),
  devstral: model('devstral-latest', 'devstral-medium-2507', 'Devstral Medium'),
  embed: model('mistral-embed', 'mistral-embed-2312', 'Mistral Embed'),
  nemo: model('open-mistral-nemo', 'open-mistral-nemo-2407', 'Mistral Nemo'),
  ocr: model('mistral-ocr-latest', 'mistral-ocr-2505', 'Mistral OCR 25.05'),
  transcribe: model('voxtral-mini-latest', 'voxtral-mini-2507', 'Voxtral Mini Transcribe'),
  speech: model('mistral-tts-latest', 'mistral-tts-2509', 'Mistral TTS'),
  webSearch: model('web-search-latest', 'web-search-2505', 'Web Search'),
  codeInterpreter: model('code-interpreter-latest', 'code-interpreter-2505', 'Code Interpreter'),
  gpu: model('dedicated-h100', 'gpu-h100-80gb', 'Dedicated H100 80GB'),
} as const satisfies Record<string, ModelSpec>;

/** `mistral-large-latest::mistral-large-2411`, the key of the usage `models` maps. */
export function modelKey(spec: ModelSpec): string {
  return `${spec.alias}::${spec.id}`;
}

/** Where a line's entries live in the usage body. */
export interface UsageLocation {
  /** JSON path of the container, e.g. ['completion'] or ['libraries_api', 'pages']. */
  readonly path: readonly string[];
  /**
   * `models`: the container is `{"models": {MODEL_KEY: {GROUP: [...]}}}`.
   * `direct`: the container itself is `{MODEL_KEY: {GROUP: [...]}}` (fine_tuning.training).
   */
  readonly shape: 'models' | 'direct';
}

export interface UsageLine {
  readonly location: UsageLocation;
  /** Consumer naming: the path joined with `_` (`libraries_api_pages`). */
  readonly category: string;
  readonly usageType: string;
  readonly eventType: string;
  readonly model: ModelSpec;
  readonly group: string;
  /** Typical org-wide quantity on a full working day, in natural units. */
  readonly dailyUnits: number;
  /** Fractional digits of the quantity (audio seconds have one). */
  readonly decimals: 0 | 1;
  /** Share of each entry's value that is free (value − value_paid), in ‰. */
  readonly freePermille: number;
  /** Probability that the line has any usage on a given day (bursty lines < 1). */
  readonly activeDayProbability: number;
  /** The regional zone the usage was served in (`usage?api_zone=` answers only its own zone's lines). */
  readonly apiZone: ApiZone;
  /** The tier the usage was served at (and billed at). */
  readonly serviceTier: ServiceTier;
  /** Whether its entries carry `service_tier` (entries are untyped: some do, some say nothing). */
  readonly tierInEntries: boolean;
  /** Served only with the simulator's `oddShapes` option. */
  readonly odd: boolean;
}

interface LineGroup {
  readonly path: readonly string[];
  readonly shape?: 'models' | 'direct';
  readonly usageType: string;
  readonly eventType: string;
  readonly model: ModelSpec;
  readonly groups: Readonly<Record<string, number>>;
  readonly decimals?: 0 | 1;
  readonly freePermille?: number;
  readonly activeDayProbability?: number;
  readonly apiZone?: ApiZone;
  readonly serviceTier?: ServiceTier;
  readonly tierInEntries?: boolean;
  readonly odd?: boolean;
}

const LINE_GROUPS: readonly LineGroup[] = [
  {
    path: ['completion'],
    usageType: 'completion',
    eventType: 'api_tokens',
    model: MODELS.large,
    groups: { input: 9_000_000, output: 1_500_000, cached: 2_000_000 },
  },
  {
    path: ['completion'],
    usageType: 'completion',
    eventType: 'api_tokens',
    model: MODELS.medium,
    groups: { input: 30_000_000, output: 6_000_000, cached: 8_000_000 },
    tierInEntries: true,
  },
  {
    path: ['completion'],
    usageType: 'completion',
    eventType: 'api_tokens',
    model: MODELS.small,
    groups: { input: 60_000_000, output: 10_000_000, cached: 10_000_000 },
    freePermille: 100,
  },
  {
    path: ['completion'],
    usageType: 'completion',
    eventType: 'api_tokens',
    model: MODELS.codestral,
    groups: { input: 15_000_000, output: 2_500_000 },
  },
  {
    path: ['completion'],
    usageType: 'completion',
    eventType: 'api_tokens',
    model: MODELS.embed,
    groups: { input: 25_000_000 },
    freePermille: 50,
  },
  {
    path: ['completion'],
    usageType: 'completion',
    eventType: 'api_tokens',
    model: MODELS.nemo,
    groups: { input: 4_000_000, output: 1_000_000 },
  },
  { path: ['ocr'], usageType: 'ocr', eventType: 'api_pages', model: MODELS.ocr, groups: { pages: 2_000 }, freePermille: 100 },
  // code-interpreter calls have no price row: the unpriced entry consumers must survive.
  { path: ['connectors'], usageType: 'connectors', eventType: 'api_connectors', model: MODELS.webSearch, groups: { calls: 500 } },
  { path: ['connectors'], usageType: 'connectors', eventType: 'api_connectors', model: MODELS.codeInterpreter, groups: { calls: 120 } },
  {
    path: ['audio'],
    usageType: 'audio',
    eventType: 'api_audio_seconds',
    model: MODELS.transcribe,
    groups: { seconds: 15_000 },
    decimals: 1,
  },
  {
    path: ['audio_characters'],
    usageType: 'audio_characters',
    eventType: 'api_audio_characters',
    model: MODELS.speech,
    groups: { characters: 250_000 },
  },
  {
    path: ['chat'],
    usageType: 'chat',
    eventType: 'api_tokens',
    model: MODELS.medium,
    groups: { input: 6_000_000, output: 1_200_000 },
    freePermille: 250,
  },
  {
    path: ['libraries_api', 'pages'],
    usageType: 'libraries_api',
    eventType: 'api_libraries_pages',
    model: MODELS.ocr,
    groups: { pages: 400 },
  },
  {
    path: ['libraries_api', 'tokens'],
    usageType: 'libraries_api',
    eventType: 'api_libraries_tokens',
    model: MODELS.embed,
    groups: { input: 5_000_000 },
  },
  {
    path: ['libraries_api', 'audio_seconds'],
    usageType: 'libraries_api',
    eventType: 'api_libraries_audio',
    model: MODELS.transcribe,
    groups: { seconds: 1_200 },
    decimals: 1,
  },
  {
    path: ['fine_tuning', 'training'],
    shape: 'direct',
    usageType: 'fine_tuning',
    eventType: 'api_tokens',
    model: MODELS.small,
    groups: { training: 1_500_000 },
    activeDayProbability: 0.3,
  },
  {
    path: ['vibe_code', 'completion'],
    usageType: 'vibe_code',
    eventType: 'vibe_tokens',
    model: MODELS.devstral,
    groups: { input: 30_000_000, output: 4_000_000, cached: 18_000_000 },
  },
  {
    path: ['vibe_code', 'completion'],
    usageType: 'vibe_code',
    eventType: 'vibe_tokens',
    model: MODELS.codestral,
    groups: { input: 6_000_000, output: 700_000 },
  },
  {
    path: ['vibe_code', 'connectors'],
    usageType: 'vibe_code',
    eventType: 'vibe_connectors',
    model: MODELS.webSearch,
    groups: { calls: 80 },
  },
  {
    path: ['vibe_code', 'audio'],
    usageType: 'vibe_code',
    eventType: 'vibe_audio_seconds',
    model: MODELS.transcribe,
    groups: { seconds: 300 },
    decimals: 1,
  },
  // A top-level category the schema does not know yet, shaped like the others.
  {
    path: ['agents_api'],
    usageType: 'agents_api',
    eventType: 'api_tokens',
    model: MODELS.medium,
    groups: { input: 3_000_000, output: 600_000 },
  },
  // Regional inference (EU, US endpoints), billed at the zone's price (1.1x list). Entries say nothing of
  // their zone: only usage?api_zone= tells them apart. Appended, so that the lines above keep their figures.
  {
    path: ['completion'],
    usageType: 'completion',
    eventType: 'api_tokens',
    model: MODELS.large,
    groups: { input: 2_000_000 },
    apiZone: 'eu',
  },
  {
    path: ['completion'],
    usageType: 'completion',
    eventType: 'api_tokens',
    model: MODELS.medium,
    groups: { input: 5_000_000 },
    apiZone: 'us',
    tierInEntries: true,
  },
  { path: ['ocr'], usageType: 'ocr', eventType: 'api_pages', model: MODELS.ocr, groups: { pages: 300 }, apiZone: 'us' },
  // Priority Tier usage (an entitlement): its entries say so; standard entries of the same model say nothing.
  {
    path: ['completion'],
    usageType: 'completion',
    eventType: 'api_tokens',
    model: MODELS.large,
    groups: { input: 1_000_000, output: 200_000 },
    serviceTier: 'priority',
    tierInEntries: true,
  },
  // Odd shapes (oddShapes): a top-level category without the `models` wrapper, GPU hours and reserved instances.
  {
    path: ['dedicated_deployments'],
    shape: 'direct',
    usageType: 'dedicated_deployments',
    eventType: 'gpu_hour',
    model: MODELS.gpu,
    groups: { hours: 24 },
    decimals: 1,
    odd: true,
  },
  {
    path: ['reserved_capacity'],
    usageType: 'reserved_capacity',
    eventType: 'reserved_instance',
    model: MODELS.gpu,
    groups: { instances: 2 },
    odd: true,
  },
];

export const USAGE_LINES: readonly UsageLine[] = LINE_GROUPS.flatMap((g) =>
  Object.entries(g.groups).map(
    ([group, dailyUnits]): UsageLine => ({
      location: { path: g.path, shape: g.shape ?? 'models' },
      category: g.path.join('_'),
      usageType: g.usageType,
      eventType: g.eventType,
      model: g.model,
      group,
      dailyUnits,
      decimals: g.decimals ?? 0,
      freePermille: g.freePermille ?? 0,
      activeDayProbability: g.activeDayProbability ?? 1,
      apiZone: g.apiZone ?? 'global',
      serviceTier: g.serviceTier ?? 'standard',
      tierInEntries: g.tierInEntries ?? false,
      odd: g.odd ?? false,
    }),
  ),
);

/** Containers every usage body carries, even when empty (the schema requires them). */
export const USAGE_CONTAINERS: readonly UsageLocation[] = [
  { path: ['completion'], shape: 'models' },
  { path: ['ocr'], shape: 'models' },
  { path: ['connectors'], shape: 'models' },
  { path: ['audio'], shape: 'models' },
  { path: ['audio_characters'], shape: 'models' },
  { path: ['chat'], shape: 'models' },
  { path: ['libraries_api', 'pages'], shape: 'models' },
  { path: ['libraries_api', 'tokens'], shape: 'models' },
  { path: ['libraries_api', 'audio_seconds'], shape: 'models' },
  { path: ['fine_tuning', 'training'], shape: 'direct' },
  { path: ['vibe_code', 'completion'], shape: 'models' },
  { path: ['vibe_code', 'ocr'], shape: 'models' },
  { path: ['vibe_code', 'connectors'], shape: 'models' },
  { path: ['vibe_code', 'audio'], shape: 'models' },
  { path: ['vibe_code', 'audio_characters'], shape: 'models' },
  { path: ['agents_api'], shape: 'models' },
];

/** Categories whose cost counts as Vibe spend rather than API spend. */
export function isVibeCategory(category: string): boolean {
  return category.startsWith('vibe_code');
}

export type ApiZone = 'global' | 'us' | 'eu';
export type ServiceTier = 'standard' | 'priority';

export interface PriceVariant {
  readonly apiZone: ApiZone;
  readonly serviceTier: ServiceTier;
  readonly price: string;
}

export interface PriceSpec {
  readonly eventType: string;
  readonly billingMetric: string;
  readonly billingGroup: string;
  /** Exact global/standard unit price in EUR, as a decimal string. */
  readonly price: string;
  /** Rows with other zones or tiers, and different prices, served beside it. */
  readonly variants?: readonly PriceVariant[];
  /** Serve the variants before the global/standard row (so "first match" is wrong). */
  readonly variantsFirst?: boolean;
  /** Listed only with the simulator's `oddShapes` option. */
  readonly odd?: boolean;
}

const price = (
  eventType: string,
  spec: ModelSpec,
  billingGroup: string,
  unitPrice: string,
  variants?: readonly PriceVariant[],
  variantsFirst?: boolean,
): PriceSpec => ({
  eventType,
  billingMetric: spec.id,
  billingGroup,
  price: unitPrice,
  ...(variants ? { variants } : {}),
  ...(variantsFirst ? { variantsFirst } : {}),
});

export const PRICES: readonly PriceSpec[] = [
  price(
    'api_tokens',
    MODELS.large,
    'input',
    '0.000002',
    [
      { apiZone: 'eu', serviceTier: 'standard', price: '0.0000022' },
      { apiZone: 'global', serviceTier: 'priority', price: '0.000003' },
    ],
    true,
  ),
  price('api_tokens', MODELS.large, 'output', '0.000006', [{ apiZone: 'global', serviceTier: 'priority', price: '0.000009' }], true),
  price('api_tokens', MODELS.large, 'cached', '0.0000002'),
  price('api_tokens', MODELS.medium, 'input', '0.0000004', [{ apiZone: 'us', serviceTier: 'standard', price: '0.00000044' }]),
  price('api_tokens', MODELS.medium, 'output', '0.000002', [{ apiZone: 'eu', serviceTier: 'priority', price: '0.0000033' }], true),
  price('api_tokens', MODELS.medium, 'cached', '0.00000004'),
  price('api_tokens', MODELS.small, 'input', '0.0000001'),
  price('api_tokens', MODELS.small, 'output', '0.0000003'),
  price('api_tokens', MODELS.small, 'cached', '0.00000001'),
  price('api_tokens', MODELS.small, 'training', '0.000004'),
  price('api_tokens', MODELS.codestral, 'input', '0.0000003'),
  price('api_tokens', MODELS.codestral, 'output', '0.0000015'),
  price('api_tokens', MODELS.embed, 'input', '0.0000001'),
  price('api_tokens', MODELS.nemo, 'input', '0.00000015'),
  price('api_tokens', MODELS.nemo, 'output', '0.00000015'),
  price('api_pages', MODELS.ocr, 'pages', '0.001', [{ apiZone: 'us', serviceTier: 'standard', price: '0.0011' }], true),
  price('api_connectors', MODELS.webSearch, 'calls', '0.01'),
  price('api_audio_seconds', MODELS.transcribe, 'seconds', '0.00002', [{ apiZone: 'global', serviceTier: 'priority', price: '0.00003' }]),
  price('api_audio_characters', MODELS.speech, 'characters', '0.000015'),
  price('api_libraries_pages', MODELS.ocr, 'pages', '0.0005'),
  price('api_libraries_tokens', MODELS.embed, 'input', '0.00000005'),
  price('api_libraries_audio', MODELS.transcribe, 'seconds', '0.00001'),
  price('vibe_tokens', MODELS.devstral, 'input', '0.0000004', [{ apiZone: 'eu', serviceTier: 'standard', price: '0.00000045' }], true),
  price('vibe_tokens', MODELS.devstral, 'output', '0.000002'),
  price('vibe_tokens', MODELS.devstral, 'cached', '0.00000004'),
  price('vibe_tokens', MODELS.codestral, 'input', '0.0000003'),
  price('vibe_tokens', MODELS.codestral, 'output', '0.0000015'),
  price('vibe_connectors', MODELS.webSearch, 'calls', '0.01'),
  price('vibe_pages', MODELS.ocr, 'pages', '0.001'),
  price('vibe_audio_seconds', MODELS.transcribe, 'seconds', '0.00002'),
  price('vibe_audio_characters', MODELS.speech, 'characters', '0.000015'),
  { ...price('gpu_hour', MODELS.gpu, 'hours', '2.9'), odd: true },
  { ...price('reserved_instance', MODELS.gpu, 'instances', '55'), odd: true },
];

/** A price row the oddShapes option adds: negative, which the API never documents (code-interpreter stays unpriced). */
export const NEGATIVE_PRICE: PriceSpec = price('api_connectors', MODELS.codeInterpreter, 'calls', '-0.01');

/** The unit price billed for usage of (key, zone, tier), as a decimal string; null when the price list has none. */
export function unitPrice(eventType: string, billingMetric: string, billingGroup: string, zone: ApiZone, tier: ServiceTier): string | null {
  const spec = PRICE_BY_KEY.get(priceKey(eventType, billingMetric, billingGroup));
  if (spec === undefined) return null;
  if (zone === 'global' && tier === 'standard') return spec.price;
  return spec.variants?.find((v) => v.apiZone === zone && v.serviceTier === tier)?.price ?? null;
}

/** Whether the price list's prices for (key, zone) differ by tier: then an entry that names no tier cannot be priced alone. */
export function pricesDifferByTier(eventType: string, billingMetric: string, billingGroup: string, zone: ApiZone): boolean {
  const prices = new Set(
    (['standard', 'priority'] as const).map((t) => unitPrice(eventType, billingMetric, billingGroup, zone, t)).filter((p) => p !== null),
  );
  return prices.size > 1;
}

export function priceKey(eventType: string, billingMetric: string, billingGroup: string): string {
  return `${eventType}|${billingMetric}|${billingGroup}`;
}

export const PRICE_BY_KEY: ReadonlyMap<string, PriceSpec> = new Map(
  PRICES.map((p) => [priceKey(p.eventType, p.billingMetric, p.billingGroup), p]),
);

export interface TokenLimit {
  readonly tokensPerMinute: number;
  readonly tokensPerMonth: number;
}

export const REQUESTS_PER_SECOND = 6;

/** Token rate limits, keyed by the same dated ids as `billing_metric`. */
export const TOKEN_LIMITS: ReadonlyArray<readonly [ModelSpec, TokenLimit]> = [
  [MODELS.large, { tokensPerMinute: 2_000_000, tokensPerMonth: 20_000_000_000 }],
  [MODELS.medium, { tokensPerMinute: 5_000_000, tokensPerMonth: 50_000_000_000 }],
  [MODELS.small, { tokensPerMinute: 10_000_000, tokensPerMonth: 100_000_000_000 }],
  [MODELS.codestral, { tokensPerMinute: 5_000_000, tokensPerMonth: 40_000_000_000 }],
  [MODELS.devstral, { tokensPerMinute: 4_000_000, tokensPerMonth: 40_000_000_000 }],
  [MODELS.embed, { tokensPerMinute: 20_000_000, tokensPerMonth: 200_000_000_000 }],
  [MODELS.nemo, { tokensPerMinute: 10_000_000, tokensPerMonth: 100_000_000_000 }],
];

/** Vibe Code names models by alias. */
export const VIBE_MODELS: readonly string[] = ['devstral-latest', 'codestral-latest', 'mistral-medium-latest'];

export const VIBE_CLIENTS = ['cli', 'acp', 'programmatic'] as const;

export const VIBE_TOOL_NAMES: readonly string[] = [
  'read_file',
  'write_file',
  'search_replace',
  'run_command',
  'grep',
  'list_dir',
  'glob',
  'web_fetch',
  'web_search',
  'todo_write',
  'task',
  'ask_user',
  'apply_patch',
  'git_diff',
  'git_status',
  'run_tests',
  'python',
  'view_image',
  'memory',
  'mcp_call',
];

export const CURRENCY = 'EUR';
export const CURRENCY_SYMBOL = '€';
