/** What --help says of `focus` (kept apart from the command, which needs the configuration that --help is part of). */

/** BillingAccountId when none is given: the Admin API does not name the organization. */
export const DEFAULT_BILLING_ACCOUNT_ID = 'mistral-organization';

/** The usage lines of `--help` about `focus`. */
export const FOCUS_HELP_USAGE = [
  '  mistral-admin-exporter focus [--month YYYY-MM] [--output FILE.csv] [flags]',
  '                                          one billing month of usage as FinOps FOCUS 1.1',
  '                                          rows (CSV), per day, workspace, model and billing',
  "                                          group, cost computed from the answer's prices",
];

/** The paragraph of `--help` about `focus`. */
export const FOCUS_HELP_TEXT = [
  'focus reads GET usage for the month (the current UTC month by default, then',
  'month to date), per workspace when MISTRAL_WORKSPACE_IDS is set, with the same',
  'settings, client and pricing as a start, and writes the CSV to --output (stdout',
  'without it). --billing-account-id ID and --billing-account-name NAME fill the',
  `BillingAccount columns (default ID: ${DEFAULT_BILLING_ACCOUNT_ID}). Progress and warnings go`,
  'to stderr. Exit code 0 when all usage was read and priced, 1 when some was left',
  'out (stderr says why) or usage could not be read, 2 on a bad flag or setting.',
  'With --config.file, --org NAME picks the organization read (and is its default',
  'BillingAccountId).',
];
