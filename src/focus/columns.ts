/**
 * The columns of the FOCUS export, as the FinOps Open Cost and Usage
 * Specification (FOCUS) 1.1 defines them: every column the specification
 * makes mandatory, the conditional and recommended ones the Admin API's
 * `usage` answer can fill, then custom columns (`x_` prefix) with what
 * FOCUS has no column for. Their values are documented in README.md
 * ("FinOps export (FOCUS)").
 */

/** The FOCUS version the export conforms to (FocusVersion in the specification's metadata). */
export const FOCUS_VERSION = '1.1';

/** FOCUS's data types: Date/Time values are ISO 8601 in UTC, `YYYY-MM-DDTHH:mm:ssZ`; Decimal values in plain decimal notation. */
export type FocusType = 'String' | 'Decimal' | 'Date/Time';

/** FOCUS's feature levels; `Custom` is a column of ours (prefixed `x_`). */
type FeatureLevel = 'Mandatory' | 'Conditional' | 'Recommended' | 'Custom';

export interface FocusColumn {
  readonly name: string;
  readonly type: FocusType;
  readonly level: FeatureLevel;
  /** Whether FOCUS allows the column to be null in a row such as ours (ChargeCategory "Usage", not a correction). */
  readonly nullable: boolean;
}

const column = <N extends string>(name: N, type: FocusType, level: FeatureLevel, nullable = false) =>
  ({ name, type, level, nullable }) as const;

export const FOCUS_COLUMNS = [
  // Mandatory in FOCUS 1.1.
  column('BillingAccountId', 'String', 'Mandatory'),
  column('BillingAccountName', 'String', 'Mandatory', true),
  column('BillingCurrency', 'String', 'Mandatory'),
  column('BillingPeriodStart', 'Date/Time', 'Mandatory'),
  column('BillingPeriodEnd', 'Date/Time', 'Mandatory'),
  column('ChargePeriodStart', 'Date/Time', 'Mandatory'),
  column('ChargePeriodEnd', 'Date/Time', 'Mandatory'),
  column('ChargeCategory', 'String', 'Mandatory'),
  column('ChargeClass', 'String', 'Mandatory', true),
  column('ChargeDescription', 'String', 'Mandatory', true),
  column('BilledCost', 'Decimal', 'Mandatory'),
  column('EffectiveCost', 'Decimal', 'Mandatory'),
  column('ListCost', 'Decimal', 'Mandatory'),
  column('ContractedCost', 'Decimal', 'Mandatory'),
  // PricingQuantity and PricingUnit may be null in FOCUS, but not in a Usage row.
  column('PricingQuantity', 'Decimal', 'Mandatory'),
  column('PricingUnit', 'String', 'Mandatory'),
  column('InvoiceIssuerName', 'String', 'Mandatory'),
  column('ProviderName', 'String', 'Mandatory'),
  column('PublisherName', 'String', 'Mandatory'),
  column('ServiceCategory', 'String', 'Mandatory'),
  column('ServiceName', 'String', 'Mandatory'),
  // Recommended.
  column('ChargeFrequency', 'String', 'Recommended'),
  column('ServiceSubcategory', 'String', 'Recommended'),
  // Conditional: the provider measures usage, names SKUs, has regions and sub accounts (workspaces).
  column('ConsumedQuantity', 'Decimal', 'Conditional'),
  column('ConsumedUnit', 'String', 'Conditional'),
  column('SkuId', 'String', 'Conditional'),
  column('SkuMeter', 'String', 'Conditional'),
  column('RegionId', 'String', 'Conditional', true),
  column('RegionName', 'String', 'Conditional', true),
  column('SubAccountId', 'String', 'Conditional', true),
  column('SubAccountName', 'String', 'Conditional', true),
  // Ours.
  column('x_CostSource', 'String', 'Custom'),
  column('x_UsageCategory', 'String', 'Custom'),
  column('x_Model', 'String', 'Custom'),
  column('x_BillingGroup', 'String', 'Custom'),
  column('x_EventType', 'String', 'Custom'),
  column('x_ServiceTier', 'String', 'Custom', true),
] as const satisfies readonly FocusColumn[];

export type FocusColumnName = (typeof FOCUS_COLUMNS)[number]['name'];

/** One row: a value per column, null where FOCUS allows none. */
export type FocusRow = Record<FocusColumnName, string | null>;
