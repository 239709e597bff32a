/**
 * Ground truth for tests, computed from the simulator's own generation (the
 * per-line and per-hour streams), never by reading a served body back.
 * Every method reads the simulator clock when called, so the answers follow
 * a moving clock exactly like the served bodies do.
 */
import { auditTruth, type AuditState, type SimAuditEntry } from './audit.js';
import { TOKEN_LIMITS, USAGE_LINES, VIBE_MODELS, CURRENCY } from './catalog.js';
import { lechatWindowTruth, type LeChatWindowTruth } from './lechat.js';
import type { SimOrg } from './org.js';
import { yearMonthOf } from './time.js';
import type { ApiZone } from './catalog.js';
import { spendTruth, usageTruth, type SpendState, type SpendTruth, type UsageShapes, type UsageTruth } from './usage.js';
import { nextEditWindowTruth, vibeWindowTruth, type NextEditWindowTruth, type VibeWindowTruth } from './vibe.js';
import { noWorkspaceChanges, simWorkspaces, type SimWorkspace, type WorkspaceChanges } from './workspaces.js';
import { simApiKeys, type SimApiKey } from './api-keys.js';
import { simInvites, type SimInvite } from './invites.js';
import { DAY_SECONDS } from './time.js';
import { simMembers, type SimMember } from './users.js';

export interface UsageTruthQuery {
  /** Default: the current UTC year. */
  readonly year?: number;
  /** 1–12; default: the current UTC month. */
  readonly month?: number;
  /** Only this workspace's share; default: org-wide. */
  readonly workspaceId?: string;
  /** Only this zone's usage; default: every zone. */
  readonly apiZone?: ApiZone;
}

export interface SimulatorTruth {
  readonly seed: number;
  /** "EUR": every amount below is in whole euros. */
  readonly currency: string;
  /** The workspace ids (usage may also contain usage attributed to no workspace). */
  readonly workspaceIds: readonly string[];
  /** Dated model ids (`billing_metric`) that usage can report, e.g. `mistral-large-2411`. */
  readonly modelIds: readonly string[];
  /** Usage model keys, e.g. `mistral-large-latest::mistral-large-2411`. */
  readonly modelKeys: readonly string[];
  /** Keys of rate-limit's `tokens_limits_by_model` (same dated ids as `billing_metric`). */
  readonly rateLimitedModelIds: readonly string[];
  readonly userIds: readonly string[];
  readonly agentIds: readonly string[];
  readonly toolNames: readonly string[];
  /** Model aliases Vibe Code reports in `consumed_tokens`. */
  readonly vibeModels: readonly string[];
  /** The simulator clock, in Unix seconds. */
  nowSeconds(): number;
  /**
   * The analytics data lake holds activity before this instant (Unix
   * seconds) only: now + 1 normally, today's UTC midnight minus N days with
   * `unloadedDays` N. The analytics truths below count what it holds.
   */
  analyticsLoadedUntilSeconds(): number;
  /**
   * Month-to-date (or whole past month) usage: one row per (category,
   * billing_metric, billing_group, event_type) with Σ value, Σ value_paid,
   * the global/standard price and the exact cost; plus the unpriced rows.
   */
  usage(query?: UsageTruthQuery): UsageTruth;
  /** The current month's spend figures, exact and as served by spend-limit. */
  spend(): SpendTruth;
  /** le Chat activity in [start, end) (Unix seconds), as by_user/by_agent/by_time count it. */
  lechat(startSeconds: number, endSeconds: number): LeChatWindowTruth;
  /** Vibe Code activity over the days by_workspace serves for [start, end); org-wide without a workspace. */
  vibe(startSeconds: number, endSeconds: number, workspaceId?: string): VibeWindowTruth;
  /** Next-edit (IDE) activity over the days by_organization serves for [start, end). */
  nextEdit(startSeconds: number, endSeconds: number): NextEditWindowTruth;
  /** The workspaces GET workspaces lists by default (not archived), as served. */
  workspaces(): readonly SimWorkspace[];
  /** The audit log entries with an instant in (afterMs, beforeMs) that exist by now, oldest first. */
  auditLog(afterMs: number, beforeMs: number): readonly SimAuditEntry[];
  /** The API keys GET api-keys lists now, newest first, as served (with their creation and expiry instants). */
  apiKeys(): readonly SimApiKey[];
  /** The members GET users lists now, in its order, as served (with their creation instant). */
  members(): readonly SimMember[];
  /** The pending invitations GET users and GET users-invite list now. */
  invites(): readonly SimInvite[];
  /**
   * Idle le Chat seats: members whose CHAT subscription gives access, who
   * joined before the last `days` complete UTC days began, and who sent no
   * le Chat message in those days (as the analytics data lake holds them).
   */
  idleChatSeats(days: number): number;
}

export function createTruth(
  org: SimOrg,
  spend: SpendState,
  nowSeconds: () => number,
  audit: { audit: AuditState; nowMs: () => number },
  loadedUntil: () => number = () => nowSeconds() + 1,
  shapes: UsageShapes = {},
  workspaceChanges: WorkspaceChanges = noWorkspaceChanges(),
): SimulatorTruth {
  // The last instant the analytics data lake holds: activity after it is not served, nor counted here.
  const analyticsNow = () => Math.min(nowSeconds(), loadedUntil() - 1);
  const unique = (values: readonly string[]) => [...new Set(values)];
  return {
    seed: org.seed,
    currency: CURRENCY,
    workspaceIds: org.workspaceIds,
    modelIds: unique(USAGE_LINES.filter((line) => !line.odd || shapes.oddShapes).map((line) => line.model.id)),
    modelKeys: unique(USAGE_LINES.filter((line) => !line.odd || shapes.oddShapes).map((line) => `${line.model.alias}::${line.model.id}`)),
    rateLimitedModelIds: TOKEN_LIMITS.map(([spec]) => spec.id),
    userIds: org.users.map((u) => u.id),
    agentIds: org.agentIds,
    toolNames: org.toolNames,
    vibeModels: VIBE_MODELS,
    nowSeconds,
    analyticsLoadedUntilSeconds: loadedUntil,
    usage(query = {}) {
      const now = nowSeconds();
      const current = yearMonthOf(now);
      return usageTruth(
        org,
        { year: query.year ?? current.year, month: query.month ?? current.month, workspaceId: query.workspaceId, apiZone: query.apiZone },
        now,
        shapes,
      );
    },
    spend: () => spendTruth(org, spend, nowSeconds(), shapes),
    lechat: (startSeconds, endSeconds) => lechatWindowTruth(org, { startSeconds, endSeconds, nowSeconds: analyticsNow() }),
    vibe: (startSeconds, endSeconds, workspaceId) =>
      vibeWindowTruth(org, { startSeconds, endSeconds, nowSeconds: analyticsNow() }, workspaceId),
    nextEdit: (startSeconds, endSeconds) => nextEditWindowTruth(org, { startSeconds, endSeconds, nowSeconds: analyticsNow() }),
    workspaces: () => simWorkspaces(org, workspaceChanges).filter((w) => !w.archived),
    auditLog: (afterMs, beforeMs) => auditTruth(org, audit.audit, afterMs, beforeMs, audit.nowMs()),
    apiKeys: () => simApiKeys(org, nowSeconds()),
    members: () => simMembers(org, nowSeconds(), shapes),
    invites: () => simInvites(org, nowSeconds(), shapes),
    idleChatSeats(days) {
      const end = Math.floor(nowSeconds() / DAY_SECONDS) * DAY_SECONDS;
      const start = end - days * DAY_SECONDS;
      const active = lechatWindowTruth(org, { startSeconds: start, endSeconds: end, nowSeconds: analyticsNow() }).byUser;
      return simMembers(org, nowSeconds(), shapes).filter(
        (m) =>
          m.createdSeconds <= start &&
          m.subscriptions.some((s) => s.type === 'CHAT' && s.member_has_access === true) &&
          !active.has(m.uuid),
      ).length;
    },
  };
}
