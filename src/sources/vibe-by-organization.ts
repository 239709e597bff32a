import type { AnalyticsWindow } from '../config/settings.js';
import { checkEchoedWindow } from './echo.js';
import { decimalToNumber, family, REFRESHED, single, type FamilyDef } from './families.js';
import { defineEndpoint, type MetricFamily, type Reader, type Sample, type Unreadable } from './types.js';
import { UnreadableTally } from './unreadable.js';
import {
  allLoaded,
  dayRows,
  knownArrays,
  loadedDays,
  refuseIfNothingReadable,
  sumDays,
  vibeCompleteUntil,
  WINDOW,
  windowDays,
  type DayRow,
} from './vibe-daily.js';
import { completeDaysRange, lastCompleteDay, longest } from './windows.js';

/**
 * GET analytics Vibe Code by_organization: next-edit suggestions, their
 * active users and the lines they changed, over each window's complete UTC days.
 */

const OUTCOME_FIELDS = {
  accepted: 'outcome_accepted',
  rejected: 'outcome_rejected',
  timeout: 'outcome_timeout',
  aborted: 'outcome_aborted',
  dismissed: 'outcome_dismissed',
  widget: 'surface_widget',
  ghost_text: 'surface_ghost_text',
} as const;
type SuggestionCount = keyof typeof OUTCOME_FIELDS;
const OUTCOMES = ['accepted', 'rejected', 'timeout', 'aborted', 'dismissed'] as const satisfies readonly SuggestionCount[];
const SURFACES = ['widget', 'ghost_text'] as const satisfies readonly SuggestionCount[];

const NEXT_EDIT_USER_FIELDS = { users: 'nb_active_users' } as const;
const LOC_FIELDS = { inserted: 'lines_inserted', deleted: 'lines_deleted', unchanged: 'lines_unchanged' } as const;
type LocCount = keyof typeof LOC_FIELDS;
const CHANGES = ['inserted', 'deleted', 'unchanged'] as const satisfies readonly LocCount[];

/** The by_organization answer (next-edit suggestions). */
export interface VibeOrganizationReport {
  suggestions: DayRow<SuggestionCount>[];
  activeUsers: DayRow<'users'>[];
  modifiedLines: DayRow<LocCount>[];
  /** The days with an element in any array: loaded (see vibe-daily.ts). */
  loaded: Set<string>;
}

export interface VibeOrganizationSnapshot {
  /** When the answer was fetched (ms since the epoch): the windows' "now". */
  fetchedAt: number;
  windows: readonly AnalyticsWindow[];
  report: VibeOrganizationReport;
  unreadable?: Unreadable;
}

const ORGANIZATION_WHERE = 'vibe by_organization';

const ORGANIZATION_ARRAYS = ['next_edit_suggestions', 'next_edit_active_users', 'next_edit_modified_loc'] as const;

/** Parses the by_organization answer. Throws ParseError on a shape it cannot read. */
export function parseVibeOrganization(body: unknown, tally = new UnreadableTally()): VibeOrganizationReport {
  const w = ORGANIZATION_WHERE;
  const a = knownArrays(body, w, ORGANIZATION_ARRAYS);
  const report: VibeOrganizationReport = {
    suggestions: dayRows(a.next_edit_suggestions, `${w}.next_edit_suggestions`, OUTCOME_FIELDS, tally),
    activeUsers: dayRows(a.next_edit_active_users, `${w}.next_edit_active_users`, NEXT_EDIT_USER_FIELDS, tally),
    modifiedLines: dayRows(a.next_edit_modified_loc, `${w}.next_edit_modified_loc`, LOC_FIELDS, tally),
    loaded: new Set(),
  };
  report.loaded = loadedDays([report.suggestions, report.activeUsers, report.modifiedLines]);
  refuseIfNothingReadable(
    w,
    [
      [a.next_edit_suggestions, report.suggestions],
      [a.next_edit_active_users, report.activeUsers],
      [a.next_edit_modified_loc, report.modifiedLines],
    ],
    tally,
  );
  return report;
}

const ORG = 'GET analytics/vibe by_organization';

export const VIBE_ORGANIZATION_FAMILIES = {
  suggestions: {
    name: 'mistral_vibe_next_edit_suggestions',
    help: `Vibe Code next-edit suggestions ${WINDOW}, by outcome (next_edit_suggestions outcome_* of ${ORG}). ${REFRESHED}`,
    labelNames: ['outcome', 'window'],
  },
  suggestionsBySurface: {
    name: 'mistral_vibe_next_edit_suggestions_by_surface',
    help: `Vibe Code next-edit suggestions ${WINDOW}, by where they were shown (next_edit_suggestions surface_* of ${ORG}). ${REFRESHED}`,
    labelNames: ['surface', 'window'],
  },
  dailyActiveUsers: {
    name: 'mistral_vibe_next_edit_daily_active_users',
    help: `Vibe Code next-edit active users on the last complete UTC day (next_edit_active_users nb_active_users of ${ORG}). ${REFRESHED}`,
    labelNames: [],
  },
  lines: {
    name: 'mistral_vibe_next_edit_lines',
    help: `Lines of code modified by Vibe Code next edits ${WINDOW}, by change (next_edit_modified_loc lines_* of ${ORG}). ${REFRESHED}`,
    labelNames: ['change', 'window'],
  },
} as const satisfies Record<string, FamilyDef>;

/** Pure: the by_organization metric families of a snapshot. */
export function vibeOrganizationFamilies(snapshot: VibeOrganizationSnapshot): MetricFamily[] {
  const { report } = snapshot;
  const suggestions: Sample[] = [];
  const bySurface: Sample[] = [];
  const lines: Sample[] = [];

  // Rule 5: a window needing a day the API has not loaded is not published, nor the daily gauge of such a day.
  for (const { label: window, days } of windowDays(snapshot.fetchedAt, snapshot.windows).filter((w) => allLoaded(w.days, report.loaded))) {
    const s = sumDays(report.suggestions, days, [...OUTCOMES, ...SURFACES]);
    for (const outcome of OUTCOMES) suggestions.push({ labels: { outcome, window }, value: decimalToNumber(s[outcome]) });
    for (const surface of SURFACES) bySurface.push({ labels: { surface, window }, value: decimalToNumber(s[surface]) });
    const loc = sumDays(report.modifiedLines, days, CHANGES);
    for (const change of CHANGES) lines.push({ labels: { change, window }, value: decimalToNumber(loc[change]) });
  }
  const yesterday = new Set([lastCompleteDay(snapshot.fetchedAt)]);
  const users = allLoaded(yesterday, report.loaded) ? decimalToNumber(sumDays(report.activeUsers, yesterday, ['users']).users) : undefined;

  const F = VIBE_ORGANIZATION_FAMILIES;
  return [
    family(F.suggestions, suggestions),
    family(F.suggestionsBySurface, bySurface),
    family(F.dailyActiveUsers, single(users)),
    family(F.lines, lines),
  ];
}

export const vibeByOrganization = defineEndpoint({
  id: 'vibe_by_organization',
  describe: 'GET analytics/vibe (by_organization)',
  title: 'Vibe Code by_organization',
  paths: {
    brief: 'analytics/vibe/usage/by_organization',
    legacy: 'analytics/vibe/usage/by_organization',
    current: 'analytics/vibe/code/usage/by_organization',
  },
  intervalGroup: 'analytics',
  query: "`start_time`, `end_time`: the longest window's complete UTC days",
  perWorkspace: false,
  families: Object.values(VIBE_ORGANIZATION_FAMILIES),
  reader: ({ analytics }): Reader<VibeOrganizationSnapshot> => {
    const { windows } = analytics;
    return {
      async fetch(ctx) {
        const query = completeDaysRange(ctx.now, longest(windows).days);
        const tally = new UnreadableTally();
        const { body } = await ctx.get({ ...query });
        checkEchoedWindow(body, { ...query }, 'vibe by_organization');
        const report = parseVibeOrganization(body, tally);
        return { fetchedAt: ctx.now, windows, report, unreadable: tally.result() };
      },
      toFamilies: vibeOrganizationFamilies,
      completeUntil: (s) => vibeCompleteUntil(s.fetchedAt, s.windows, [s.report]),
      unreadable: (s) => s.unreadable ?? {},
    };
  },
});
