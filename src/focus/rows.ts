/**
 * Pure: priced usage (one `UsageReport` per workspace and charge period) in,
 * FOCUS rows out. One row per charge period (a UTC day), workspace, usage
 * category, model, billing group, event type, and zone and service tier
 * where the prices differ by them. Usage whose cost is not known (no price,
 * or no single price, matches) makes no row: FOCUS allows no null cost, and
 * a cost the API did not give is never written as 0. Rows with no quantity
 * (a day without use) are left out too: FOCUS requires a positive
 * ConsumedQuantity on a Usage row.
 */
import type { Big } from 'big.js';
import { unitOf, type Unit, type UsageReport, type UsageRow } from '../sources/usage.js';
import type { FocusRow } from './columns.js';

/** Provider, publisher and invoice issuer: Mistral AI sells, makes and invoices what `usage` lists. */
export const PROVIDER_NAME = 'Mistral AI';

/** Custom column x_CostSource: the costs are computed (value_paid × the answer's unit price), not read from an invoice. */
export const COST_SOURCE = 'ComputedFromUsagePrices';

/** The billing account (the organization) the rows are of: the Admin API does not name it, so the user does. */
export interface BillingAccount {
  id: string;
  name: string | undefined;
}

/** A usage report and the charge period it covers, [start, end) in ms since the epoch. */
export interface PricedPeriod {
  report: UsageReport;
  start: number;
  end: number;
}

/** FOCUS units (Unit Format: plural, capitalized) of the exporter's units, in the API's own quantities (GPU hours stay hours). */
const FOCUS_UNITS: Record<Unit, string> = {
  tokens: 'Tokens',
  pages: 'Pages',
  audio_seconds: 'Seconds',
  audio_characters: 'Characters',
  gpu_seconds: 'GPU-Hours',
  reserved_instances: 'Instances',
};

/** The unit of an event type the exporter does not know the unit of (e.g. connector calls): a count. */
export const UNKNOWN_UNIT = 'Units';

/** ServiceName of a usage category (the API's product); a category not listed here is named as the API names it. */
const SERVICE_NAMES: ReadonlyArray<[prefix: string, name: string]> = [
  ['completion', 'Mistral API Completions'],
  ['chat', 'Mistral API Chat'],
  ['ocr', 'Mistral OCR'],
  ['connectors', 'Mistral API Connectors'],
  ['audio_characters', 'Mistral Text to Speech'],
  ['audio', 'Mistral Audio Transcription'],
  ['libraries_api', 'Mistral Libraries API'],
  ['fine_tuning', 'Mistral Fine-tuning'],
  ['vibe_code', 'Mistral Vibe Code'],
  ['agents_api', 'Mistral Agents API'],
];

/** ServiceSubcategory (FOCUS's allowed values under "AI and Machine Learning"). */
function serviceSubcategory(category: string): string {
  if (category.startsWith('fine_tuning')) return 'Machine Learning';
  if (category.startsWith('ocr') || category.startsWith('audio') || category.startsWith('libraries_api')) {
    return 'Natural Language Processing';
  }
  if (category.startsWith('connectors') || category.startsWith('vibe_code_connectors')) return 'Other (AI and Machine Learning)';
  return 'Generative AI';
}

export function serviceName(category: string): string {
  return SERVICE_NAMES.find(([prefix]) => category === prefix || category.startsWith(`${prefix}_`))?.[1] ?? category;
}

export function focusUnit(eventType: string): string {
  const unit = unitOf(eventType);
  return unit === undefined ? UNKNOWN_UNIT : FOCUS_UNITS[unit];
}

/** FOCUS's Date/Time format: ISO 8601 in UTC, to the second, `Z`. */
export function focusDateTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** FOCUS's Numeric format: plain decimal notation, exact, no exponent, no sign on a positive value. */
export function focusDecimal(d: Big): string {
  return d.toFixed();
}

/** What is metered: the billing group and the unit (`Input Tokens`), or the unit alone when the group names it (`Pages`, `GPU-Hours`). */
function what(billingGroup: string, unit: string): string {
  if (unit.toLowerCase().endsWith(billingGroup.toLowerCase())) return unit;
  return `${billingGroup.charAt(0).toUpperCase()}${billingGroup.slice(1)} ${unit}`;
}

/** SkuId: the fields a price of the answer's price list is identified by (event_type, billing_metric, billing_group). */
function skuId(row: UsageRow): string {
  return `${row.eventType}:${row.model}:${row.billingGroup}`;
}

function focusRow(
  row: UsageRow & { cost: Big },
  period: PricedPeriod,
  billing: { start: number; end: number },
  account: BillingAccount,
  workspaceNames: ReadonlyMap<string, string>,
): FocusRow {
  const { report } = period;
  const unit = focusUnit(row.eventType);
  const cost = focusDecimal(row.cost);
  return {
    BillingAccountId: account.id,
    BillingAccountName: account.name ?? null,
    BillingCurrency: report.currency,
    BillingPeriodStart: focusDateTime(billing.start),
    BillingPeriodEnd: focusDateTime(billing.end),
    ChargePeriodStart: focusDateTime(period.start),
    ChargePeriodEnd: focusDateTime(period.end),
    ChargeCategory: 'Usage',
    ChargeClass: null,
    ChargeDescription: `${row.model} ${what(row.billingGroup, unit).toLowerCase()} (${row.category})`,
    // The only cost there is: computed from the answer's unit prices, which do not say list from negotiated.
    BilledCost: cost,
    EffectiveCost: cost,
    ListCost: cost,
    ContractedCost: cost,
    PricingQuantity: focusDecimal(row.paid),
    PricingUnit: unit,
    InvoiceIssuerName: PROVIDER_NAME,
    ProviderName: PROVIDER_NAME,
    PublisherName: PROVIDER_NAME,
    ServiceCategory: 'AI and Machine Learning',
    ServiceName: serviceName(row.category),
    ChargeFrequency: 'Usage-Based',
    ServiceSubcategory: serviceSubcategory(row.category),
    ConsumedQuantity: focusDecimal(row.quantity),
    ConsumedUnit: unit,
    SkuId: skuId(row),
    SkuMeter: what(row.billingGroup, unit),
    RegionId: row.zone ?? null,
    RegionName: row.zone ?? null,
    SubAccountId: report.workspaceId ?? null,
    SubAccountName: report.workspaceId === undefined ? null : (workspaceNames.get(report.workspaceId) ?? null),
    x_CostSource: COST_SOURCE,
    x_UsageCategory: row.category,
    x_Model: row.model,
    x_BillingGroup: row.billingGroup,
    x_EventType: row.eventType,
    x_ServiceTier: row.tier ?? null,
  };
}

/**
 * The FOCUS rows of priced periods of one billing month ([billing.start,
 * billing.end)), sorted by charge period, workspace, category, model,
 * billing group, event type, zone and tier.
 */
export function focusRows(
  periods: readonly PricedPeriod[],
  billing: { start: number; end: number },
  account: BillingAccount,
  /** Workspace names by id (SubAccountName); a workspace not in it has none. */
  workspaceNames: ReadonlyMap<string, string> = new Map(),
): FocusRow[] {
  const rows: FocusRow[] = [];
  for (const period of periods) {
    for (const row of period.report.rows) {
      if (row.quantity.gt(0) && row.cost !== undefined)
        rows.push(focusRow({ ...row, cost: row.cost }, period, billing, account, workspaceNames));
    }
  }
  const key = (r: FocusRow) =>
    [
      r.ChargePeriodStart,
      r.ChargePeriodEnd,
      r.SubAccountId ?? '',
      r.x_UsageCategory,
      r.x_Model,
      r.x_BillingGroup,
      r.x_EventType,
      r.RegionId ?? '',
      r.x_ServiceTier ?? '',
    ].join('\u0000');
  rows.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  return rows;
}
