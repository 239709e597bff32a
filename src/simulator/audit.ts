/**
 * GET audit-logs (`AuditLogOut[]`, beta), written from the published
 * OpenAPI spec (`/v1/admin/audit-logs`): a plain array of entries, no
 * envelope and no next cursor. The query filters by `event_type`,
 * `actor_type`, `target_type` (arrays: the parameter repeated),
 * `actor_user_uuid`, and by time: entries strictly `after` and strictly
 * `before` the given date-times, `sort` ascending or descending (the
 * default), at most `limit` (default 20; the spec states no maximum).
 *
 * The log is a pure function of (seed, hour): each UTC hour has its own
 * entries, drawn from the seed and the hour's index, so any window can be
 * recomputed without replaying history. Nothing after "now" exists yet.
 * Some hours hold a burst of `workspace.member.add` at one instant (a SCIM
 * sync), so that entries share a timestamp across a page boundary.
 */
import type { SimOrg } from './org.js';
import { ORG_CREATED_SECONDS } from './org.js';
import { hash2, mulberry32, pickWeighted, tag, uuidFrom } from './prng.js';
import { HOUR_SECONDS, isWeekend, dayIndexOf } from './time.js';
import type { JsonObject } from './usage.js';

export const ACTOR_TYPES = ['HUMAN', 'API_KEY', 'OTHER'] as const;

/** `AuditLogEventType` of the published spec: an `event_type` outside it is refused (422), as FastAPI validates an enum. */
export const AUDIT_LOG_EVENT_TYPES: readonly string[] = [
  'user.create',
  'user.delete',
  'user.log_in',
  'user.info.update',
  'user.password.update',
  'user.phone_number.verify',
  'user.organization.leave',
  'user.organization.role.update',
  'user.organization.delete',
  'user.organization.join',
  'organization.create',
  'organization.update',
  'organization.invite.send',
  'organization.invite.resend',
  'organization.invite.accepted',
  'organization.invite.revoked',
  'organization.join_by_email_domain',
  'organization.domain_verification.disable',
  'organization.domain_verification.enable',
  'organization.email_domain_authentication.enable',
  'organization.email_domain_authentication.disable',
  'organization.saml_authentication.enable',
  'organization.saml_authentication.disable',
  'organization.saml_authentication.sso_user_provisioning.update',
  'organization.scim_sync.trigger',
  'organization.seat_auto_assign.enable',
  'organization.seat_auto_assign.disable',
  'organization.kind.update',
  'organization.sso_seat_auto_assign.enable',
  'organization.sso_seat_auto_assign.disable',
  'workspace.create',
  'workspace.update',
  'workspace.delete',
  'workspace.member.add',
  'workspace.member.remove',
  'workspace.member.role.update',
  'user_group.create',
  'user_group.update',
  'user_group.delete',
  'user_group.member.add',
  'user_group.member.remove',
  'user_group.workspace.provision',
  'user_group.workspace.deprovision',
  'user_group.workspace.update',
  'billing.information.updated',
  'billing.payment_method.added',
  'billing.payment_method.removed',
  'billing.payment_method.default_changed',
  'billing.invoice.retried',
  'billing.subscription.subscribe',
  'billing.subscription.unsubscribe',
  'billing.subscription.cancel_unsubscribe',
  'billing.subscription.add_seats',
  'billing.subscription.remove_seats',
  'billing.subscription.termination_date.updated',
  'billing.credits.added',
  'billing.gift_code.used',
  'billing.monthly_limit.updated',
  'billing.workspace_monthly_limit.updated',
  'billing.shared_budget_override.updated',
  'billing.auto_recharge.updated',
  'billing.seat.grant',
  'billing.seat.revoke',
  'billing.priority_service_tier.updated',
  'billing.priority_service_tier.removed',
  'le_chat.conversation.created',
  'le_chat.conversation.deleted',
  'le_chat.conversation_batch.deleted',
  'le_chat.conversation.public_sharing.enabled',
  'le_chat.conversation.public_sharing.disabled',
  'le_chat.flash_answers.enabled',
  'le_chat.flash_answers.disabled',
  'le_chat.localisation_sharing.enabled',
  'le_chat.localisation_sharing.disabled',
  'le_chat.memories.enabled',
  'le_chat.memories.disabled',
  'le_chat.data.training_enabled',
  'le_chat.data.training_disabled',
  'le_chat.actions.external_link',
  'admin_api_key.created',
  'admin_api_key.delete',
  'api_key.create',
  'api_key.rotate',
  'api_key.delete',
  'api_key_policy.update',
  'secret_store.entry.create',
  'secret_store.entry.update',
  'secret_store.entry.delete',
  'service_account.create',
  'service_account.update',
  'service_account.delete',
  'service_account.client_secret.create',
  'service_account.client_secret.delete',
  'service_account.roles.set',
  'workload_identity.credential_registration.create',
  'workload_identity.credential.create',
  'trusted_issuer.create',
  'trusted_issuer.update',
  'trusted_issuer.delete',
  'agent.create',
  'agent.delete',
  'agent.update',
  'skill.create',
  'skill.delete',
  'skill.enable',
  'skill.disable',
  'skill.update',
  'skill.share',
  'skill.unshare',
  'skill.load',
  'skill.force_load',
  'skill.version.create',
  'prompt.create',
  'prompt.delete',
  'prompt.update',
  'prompt.version.create',
  'knowledge_base.create',
  'knowledge_base.delete',
  'knowledge_base.update',
  'knowledge_base.version.create',
  'custom_voice.create',
  'custom_voice.update',
  'custom_voice.delete',
  'feature_permission.override.created',
  'feature_permission.override.deleted',
  'resource.share',
  'resource.unshare',
  'la_plateforme.training.enabled',
  'la_plateforme.training.disabled',
  'cloud_runtime.app.created',
  'cloud_runtime.app.updated',
  'cloud_runtime.app.deleted',
  'cloud_runtime.app.paused',
  'cloud_runtime.app.resumed',
  'cloud_runtime.deployment.created',
  'cloud_runtime.deployment.succeeded',
  'cloud_runtime.deployment.canceled',
  'cloud_runtime.deployment.stopped',
  'cloud_runtime.deployment.failed',
  'cloud_runtime.deployment.autoscaled',
  'cloud_runtime.domain.created',
  'cloud_runtime.domain.updated',
  'cloud_runtime.domain.deleted',
  'cloud_runtime.secret.created',
  'cloud_runtime.secret.updated',
  'cloud_runtime.secret.deleted',
  'cloud_runtime.service.created',
  'cloud_runtime.service.paused',
  'cloud_runtime.service.resumed',
  'cloud_runtime.service.deleted',
  'cloud_runtime.service.manually_scaled',
  'cloud_runtime.service.manual_scaling_deleted',
  'cloud_runtime.persistent_volume.created',
  'cloud_runtime.persistent_volume.deleted',
  'cloud_runtime.persistent_volume.attached',
  'cloud_runtime.persistent_volume.detached',
  'fine_tuning_job.create',
  'fine_tuning_job.cancel',
  'batch_job.create',
  'batch_job.cancel',
  'batch_job.delete',
  'data_capture.extract_job.create',
  'data_capture.extract_job.cancel',
  'dataset.create',
  'dataset.delete',
  'library.create',
  'library.delete',
  'library.update',
  'library.share',
  'library.unshare',
  'library.document.create',
  'library.document.delete',
  'library.document.bulk_delete',
  'library.document.update',
  'library.document.reprocess',
  'integration.connected',
  'integration.disconnected',
  'indexing.workflow.completed',
  'indexing.deleted',
  'connection.admin.setup_index',
  'connection.admin.deleted',
  'integration.activated_for_org',
  'integration.deactivated_for_org',
  'integration.activated_for_workspace',
  'integration.deactivated_for_workspace',
  'integration.activated_for_user',
  'integration.deactivated_for_user',
  'integration.created',
  'integration.updated',
  'integration.deleted',
  'integration.tool_called',
  'integration.credentials.created_or_updated',
  'integration.credentials.deleted',
  'integration.credentials.revoked',
  'integration.credentials.revocation_failed',
  'integration.preferences.created_or_updated',
  'integration.preferences.deleted',
  'integration.authentication_method.created_or_updated',
  'integration.connection.created',
  'integration.shared',
  'integration.unshared',
  'connectors_gateway.tool_called',
  'connectors_debugger.tool_called',
  'crawler.config.create',
  'crawler.config.update',
  'crawler.config.delete',
  'crawler.run.create',
  'crawler.run.cancel',
  'rate_limit.rule.create',
  'rate_limit.rule.update',
  'rate_limit.rule.delete',
];

/** `TargetType` of the published spec. */
export const TARGET_TYPES: readonly string[] = [
  'USER',
  'USER_GROUP',
  'ORGANIZATION',
  'WORKSPACE',
  'API_KEY',
  'ADMIN_API_KEY',
  'API_KEY_POLICY',
  'SERVICE_ACCOUNT',
  'AGENT',
  'SKILL',
  'PROMPT',
  'KNOWLEDGE_BASE',
  'CUSTOM_VOICE',
  'DATASET',
  'FINE_TUNING_JOB',
  'BATCH_JOB',
  'DATA_CAPTURE_EXTRACT_JOB',
  'LE_CHAT_CONVERSATION',
  'LE_CHAT_MEMORIES',
  'LE_CHAT_FLASH_ANSWERS',
  'LE_CHAT_LOCALISATION',
  'LE_CHAT_DATA',
  'INVOICE',
  'WALLET',
  'MONTHLY_LIMIT',
  'WORKSPACE_MONTHLY_LIMIT',
  'SHARED_BUDGET',
  'AUTO_RECHARGE',
  'PAYMENT_METHOD',
  'SUBSCRIPTION',
  'BILLING_INFO',
  'LIBRARY',
  'LIBRARY_DOCUMENT',
  'INTEGRATION',
  'CONNECTORS_GATEWAY',
  'CONNECTORS_DEBUGGER',
  'FEATURE_PERMISSION',
  'SECRET_STORE_ENTRY',
  'CRAWLER_CONFIG',
  'SHARED_RESOURCE',
  'RATE_LIMIT_RULE',
  'APP',
  'DEPLOYMENT',
  'DOMAIN',
  'PERSISTENT_VOLUME',
  'SECRET',
  'SERVICE',
  'TRUSTED_ISSUER',
];

/** The `AuditLogEventType` entries the simulated organization produces, how often, and what they act on. */
const KINDS: ReadonlyArray<{ type: string; target: string; weight: number; actor: (typeof ACTOR_TYPES)[number] }> = [
  { type: 'billing.monthly_limit.updated', target: 'MONTHLY_LIMIT', weight: 0.15, actor: 'HUMAN' },
  { type: 'billing.workspace_monthly_limit.updated', target: 'WORKSPACE_MONTHLY_LIMIT', weight: 0.2, actor: 'HUMAN' },
  { type: 'billing.auto_recharge.updated', target: 'AUTO_RECHARGE', weight: 0.05, actor: 'HUMAN' },
  { type: 'api_key.create', target: 'API_KEY', weight: 0.6, actor: 'HUMAN' },
  { type: 'api_key.rotate', target: 'API_KEY', weight: 0.4, actor: 'API_KEY' },
  { type: 'api_key.delete', target: 'API_KEY', weight: 0.3, actor: 'HUMAN' },
  { type: 'admin_api_key.created', target: 'ADMIN_API_KEY', weight: 0.05, actor: 'HUMAN' },
  { type: 'workspace.create', target: 'WORKSPACE', weight: 0.05, actor: 'HUMAN' },
  { type: 'workspace.update', target: 'WORKSPACE', weight: 0.1, actor: 'HUMAN' },
  { type: 'workspace.member.add', target: 'WORKSPACE', weight: 0.8, actor: 'HUMAN' },
  { type: 'workspace.member.remove', target: 'WORKSPACE', weight: 0.3, actor: 'HUMAN' },
  { type: 'workspace.member.role.update', target: 'WORKSPACE', weight: 0.25, actor: 'HUMAN' },
  { type: 'user.organization.role.update', target: 'USER', weight: 0.15, actor: 'HUMAN' },
  { type: 'user.log_in', target: 'USER', weight: 6, actor: 'HUMAN' },
  { type: 'le_chat.conversation.created', target: 'LE_CHAT_CONVERSATION', weight: 8, actor: 'HUMAN' },
  { type: 'agent.update', target: 'AGENT', weight: 0.7, actor: 'API_KEY' },
  { type: 'library.document.create', target: 'LIBRARY_DOCUMENT', weight: 1.5, actor: 'OTHER' },
  { type: 'integration.tool_called', target: 'INTEGRATION', weight: 2, actor: 'OTHER' },
];

const BURST_TYPE = 'workspace.member.add';

/** One audit log entry as the simulator holds it; `ms` is its instant. */
export interface SimAuditEntry {
  readonly logId: number;
  readonly ms: number;
  readonly eventType: string;
  readonly actorType: string;
  readonly targetType: string;
  /** The acting user (for `actor_user_uuid`), null for a key or the system. */
  readonly actorUserUuid: string | null;
  readonly workspaceUuid: string | null;
}

/** How busy the simulated audit log is: 1 by default; tests raise it to make many pages. */
export interface AuditState {
  activity: number;
}

const OLDEST_HOUR = Math.floor(ORG_CREATED_SECONDS / HOUR_SECONDS);

/** The entries of one UTC hour (index since the epoch), in (instant, log_id) order. */
export function hourEntries(org: SimOrg, state: AuditState, hour: number): SimAuditEntry[] {
  if (hour < OLDEST_HOUR) return [];
  const random = mulberry32(hash2(hash2(org.seed, tag('audit-log')), hour));
  const day = dayIndexOf(hour * HOUR_SECONDS);
  const hourOfDay = hour % 24;
  const busy = !isWeekend(day) && hourOfDay >= 7 && hourOfDay < 19;
  const mean = (busy ? 6 : 1.5) * state.activity;
  const count = Math.floor(random() * 2 * mean + random());
  const drafts: Array<Omit<SimAuditEntry, 'logId'>> = [];
  const weights = KINDS.map((k) => k.weight);
  const actorOf = (kind: (typeof KINDS)[number]) =>
    kind.actor === 'HUMAN' ? (org.users[Math.floor(random() * org.users.length)]?.id ?? null) : null;
  const workspaceOf = () => (random() < 0.7 ? (org.workspaceIds[Math.floor(random() * org.workspaceIds.length)] ?? null) : null);
  for (let i = 0; i < count; i++) {
    const kind = KINDS[pickWeighted(weights, random())] ?? KINDS[0]!;
    // Whole seconds mostly; some entries carry milliseconds.
    const ms = (hour * HOUR_SECONDS + Math.floor(random() * HOUR_SECONDS)) * 1000 + (random() < 0.4 ? Math.floor(random() * 1000) : 0);
    drafts.push({
      ms,
      eventType: kind.type,
      actorType: kind.actor,
      targetType: kind.target,
      actorUserUuid: actorOf(kind),
      workspaceUuid: workspaceOf(),
    });
  }
  if (random() < 0.04 * state.activity) {
    const size = 20 + Math.floor(random() * 26);
    const ms = (hour * HOUR_SECONDS + Math.floor(random() * HOUR_SECONDS)) * 1000;
    const workspace = org.workspaceIds[0] ?? null;
    for (let i = 0; i < size; i++) {
      drafts.push({
        ms,
        eventType: BURST_TYPE,
        actorType: 'OTHER',
        targetType: 'WORKSPACE',
        actorUserUuid: null,
        workspaceUuid: workspace,
      });
    }
  }
  // Stable sort: entries of one instant keep their drawing order.
  drafts.sort((a, b) => a.ms - b.ms);
  return drafts.map((d, i) => ({ ...d, logId: hour * 10_000 + i }));
}

export interface AuditQuery {
  readonly eventTypes: readonly string[];
  readonly actorTypes: readonly string[];
  readonly targetTypes: readonly string[];
  readonly actorUserUuid: string | undefined;
  /** Exclusive bounds, ms. */
  readonly afterMs: number | undefined;
  readonly beforeMs: number | undefined;
  readonly ascending: boolean;
  readonly limit: number;
}

function matches(e: SimAuditEntry, q: AuditQuery, nowMs: number): boolean {
  return (
    e.ms <= nowMs &&
    (q.afterMs === undefined || e.ms > q.afterMs) &&
    (q.beforeMs === undefined || e.ms < q.beforeMs) &&
    (q.eventTypes.length === 0 || q.eventTypes.includes(e.eventType)) &&
    (q.actorTypes.length === 0 || q.actorTypes.includes(e.actorType)) &&
    (q.targetTypes.length === 0 || q.targetTypes.includes(e.targetType)) &&
    (q.actorUserUuid === undefined || e.actorUserUuid === q.actorUserUuid)
  );
}

/** The entries a query selects, in the order asked, at most `limit`: hour by hour from the near end of the range. */
export function auditEntries(org: SimOrg, state: AuditState, q: AuditQuery, nowMs: number): SimAuditEntry[] {
  const out: SimAuditEntry[] = [];
  if (q.limit <= 0) return out;
  const upper = Math.min(nowMs, q.beforeMs ?? nowMs);
  const firstHour = Math.max(OLDEST_HOUR, Math.floor((q.afterMs ?? ORG_CREATED_SECONDS * 1000) / 1000 / HOUR_SECONDS));
  const lastHour = Math.floor(upper / 1000 / HOUR_SECONDS);
  const step = q.ascending ? 1 : -1;
  for (let hour = q.ascending ? firstHour : lastHour; q.ascending ? hour <= lastHour : hour >= firstHour; hour += step) {
    const entries = hourEntries(org, state, hour).filter((e) => matches(e, q, nowMs));
    for (const e of q.ascending ? entries : entries.reverse()) {
      out.push(e);
      if (out.length >= q.limit) return out;
    }
  }
  return out;
}

/** Every entry with an instant in (afterMs, beforeMs), oldest first: the truth tests count against. */
export function auditTruth(org: SimOrg, state: AuditState, afterMs: number, beforeMs: number, nowMs: number): SimAuditEntry[] {
  return auditEntries(
    org,
    state,
    { eventTypes: [], actorTypes: [], targetTypes: [], actorUserUuid: undefined, afterMs, beforeMs, ascending: true, limit: Infinity },
    nowMs,
  );
}

/**
 * `created_at` as a FastAPI service writes it, in turn: `isoformat()` with
 * microseconds and `+00:00`, without them when they are 0, and `Z` with
 * milliseconds.
 */
function createdAt(e: SimAuditEntry): string {
  const iso = new Date(e.ms).toISOString();
  switch (e.logId % 3) {
    case 0:
      return e.ms % 1000 === 0 ? iso.replace('.000Z', '+00:00') : iso.replace('Z', '000+00:00');
    case 1:
      return iso;
    default:
      return e.ms % 1000 === 0 ? iso.replace('.000Z', 'Z') : iso;
  }
}

/** One `AuditLogOut`. The metadata maps hold strings (names, emails) the exporter must never export. */
export function auditLogOut(org: SimOrg, e: SimAuditEntry): JsonObject {
  const random = mulberry32(hash2(org.seed, e.logId));
  const who = e.actorUserUuid;
  const actorMetadata: Record<string, string> =
    who === null
      ? { key_name: `key-${Math.floor(random() * 100)}` }
      : { user_uuid: who, email: `user${who.slice(0, 4)}@example.com`, name: `User ${who.slice(0, 4)}` };
  const eventMetadata: Record<string, string> = e.eventType.includes('limit')
    ? { previous_value: String(1000 + Math.floor(random() * 10) * 500), new_value: String(1000 + Math.floor(random() * 10) * 500) }
    : {};
  return {
    created_at: createdAt(e),
    actor_type: e.actorType,
    actor_metadata: actorMetadata,
    event_type: e.eventType,
    event_metadata: eventMetadata,
    target_type: e.targetType,
    target_metadata: { id: uuidFrom(random) },
    log_id: e.logId,
    organization_uuid: e.logId % 5 === 0 ? null : uuidFrom(mulberry32(hash2(org.seed, tag('organization')))),
    workspace_uuid: e.workspaceUuid,
  };
}
