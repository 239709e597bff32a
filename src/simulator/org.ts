/**
 * The simulated organisation's fixed entities, drawn once from the seed:
 * workspaces, users (with their behaviour profiles), agents, Vibe tools, and
 * how each usage line is shared between workspaces.
 */
import { USAGE_LINES, VIBE_MODELS, VIBE_TOOL_NAMES } from './catalog.js';
import { hash2, mulberry32, pickWeighted, tag, uuidFrom } from './prng.js';

export interface OrgSize {
  readonly users: number;
  readonly agents: number;
  readonly workspaces: number;
  readonly tools: number;
  /** API keys listed at any instant (each a slot whose key is rotated on its own schedule; see api-keys.ts). */
  readonly apiKeys: number;
}

export const DEFAULT_ORG_SIZE: OrgSize = { users: 2000, agents: 40, workspaces: 3, tools: 20, apiKeys: 40 };

/** No activity of any kind exists before this instant (2020-01-01T00:00:00Z). */
export const ORG_CREATED_SECONDS = Date.UTC(2020, 0, 1) / 1000;

export interface VibeProfile {
  readonly dayProbability: number;
  readonly weekProbability: number;
  /** Index into VIBE_CLIENTS. */
  readonly primaryClient: number;
  /** Index into VIBE_MODELS. */
  readonly preferredModel: number;
}

export interface NextEditProfile {
  readonly dayProbability: number;
}

export interface SimUser {
  readonly index: number;
  readonly id: string;
  /** Index into `workspaceIds`, or -1 for a user outside every workspace. */
  readonly workspace: number;
  /** le Chat: probability of being active on a working day of an active week. */
  readonly chatDayProbability: number;
  /** le Chat: probability that a given week is not a week off. */
  readonly chatWeekProbability: number;
  /** Shifts the user's working hours against UTC. */
  readonly hourShift: number;
  /** Scales messages per active hour. */
  readonly intensity: number;
  /** Probability that an active hour's messages go to an agent. */
  readonly agentAffinity: number;
  /** Indexes into `agentIds`. */
  readonly favouriteAgents: readonly [number, number, number];
  readonly conversationsPerDay: number;
  readonly vibe: VibeProfile | null;
  readonly nextEdit: NextEditProfile | null;
}

export interface SimOrg {
  readonly seed: number;
  readonly size: OrgSize;
  readonly workspaceIds: readonly string[];
  readonly users: readonly SimUser[];
  readonly agentIds: readonly string[];
  readonly toolNames: readonly string[];
  /** Relative frequency of each tool in Vibe tool calls. */
  readonly toolWeights: readonly number[];
  /**
   * Per usage line (index into USAGE_LINES), the share of each slot: slots
   * 0..workspaces-1 are the workspaces, the last slot is usage attributed to
   * no workspace. Shares sum to 1; a zero share means the slot never uses it.
   */
  readonly usageShares: readonly (readonly number[])[];
  /** Fine-tuning storage per slot (same slots as `usageShares`): model id → MB. */
  readonly fineTuningStorage: readonly Readonly<Record<string, number>>[];
}

/** Behaviour tiers: share of users, and their le Chat day probability. */
const CHAT_TIERS: ReadonlyArray<{ share: number; dayProbability: number; intensity: [number, number] }> = [
  { share: 0.08, dayProbability: 0, intensity: [1, 1] }, // dormant accounts
  { share: 0.27, dayProbability: 0.05, intensity: [1, 2] },
  { share: 0.3, dayProbability: 0.25, intensity: [1, 3] },
  { share: 0.25, dayProbability: 0.6, intensity: [2, 4] },
  { share: 0.1, dayProbability: 0.9, intensity: [3, 6] },
];

function checkedSize(value: number, name: string, minimum: number): number {
  if (!Number.isInteger(value) || value < minimum) throw new RangeError(`org.${name} must be an integer ≥ ${minimum}, got ${value}`);
  return value;
}

export function createOrg(seed: number, requested: Partial<OrgSize> = {}): SimOrg {
  const size: OrgSize = {
    users: checkedSize(requested.users ?? DEFAULT_ORG_SIZE.users, 'users', 1),
    agents: checkedSize(requested.agents ?? DEFAULT_ORG_SIZE.agents, 'agents', 1),
    workspaces: checkedSize(requested.workspaces ?? DEFAULT_ORG_SIZE.workspaces, 'workspaces', 1),
    tools: checkedSize(requested.tools ?? DEFAULT_ORG_SIZE.tools, 'tools', 1),
    apiKeys: checkedSize(requested.apiKeys ?? DEFAULT_ORG_SIZE.apiKeys, 'apiKeys', 0),
  };
  const entityRandom = (name: string) => mulberry32(hash2(seed, tag(name)));

  const workspaceRandom = entityRandom('workspaces');
  const workspaceIds = Array.from({ length: size.workspaces }, () => uuidFrom(workspaceRandom));

  const agentRandom = entityRandom('agents');
  const agentIds = Array.from({ length: size.agents }, () => uuidFrom(agentRandom));
  const agentPopularity = agentIds.map((_, i) => 1 / (i + 1) ** 0.9);

  const toolNames = Array.from({ length: size.tools }, (_, i) => VIBE_TOOL_NAMES[i] ?? `tool_${i + 1}`);
  const toolWeights = toolNames.map((_, i) => 1 / (i + 1) ** 0.8);

  const workspaceWeights = [...workspaceIds.map((_, i) => 1 / (i + 1)), 0.05];
  const users: SimUser[] = [];
  for (let index = 0; index < size.users; index++) {
    // One PRNG per user: adding users never changes the existing ones.
    const random = mulberry32(hash2(hash2(seed, tag('user')), index));
    const id = uuidFrom(random);
    const slot = pickWeighted(workspaceWeights, random());
    const tier =
      CHAT_TIERS[
        pickWeighted(
          CHAT_TIERS.map((t) => t.share),
          random(),
        )
      ] ?? CHAT_TIERS[0]!;
    const [lowIntensity, highIntensity] = tier.intensity;
    const favourite = () => pickWeighted(agentPopularity, random());
    const isVibeUser = random() < 0.25;
    const vibe: VibeProfile | null = isVibeUser
      ? {
          dayProbability: 0.3 + 0.6 * random(),
          weekProbability: 0.6 + 0.4 * random(),
          primaryClient: pickWeighted([0.6, 0.3, 0.1], random()),
          preferredModel: pickWeighted(
            VIBE_MODELS.map((_, i) => 1 / (i + 1)),
            random(),
          ),
        }
      : null;
    const nextEdit: NextEditProfile | null = random() < (isVibeUser ? 0.7 : 0.12) ? { dayProbability: 0.3 + 0.6 * random() } : null;
    users.push({
      index,
      id,
      workspace: slot === workspaceIds.length ? -1 : slot,
      chatDayProbability: tier.dayProbability,
      chatWeekProbability: 0.55 + 0.4 * random(),
      hourShift: Math.floor(random() * 4) - 1,
      intensity: lowIntensity + (highIntensity - lowIntensity) * random(),
      agentAffinity: random() < 0.3 ? 0 : 0.6 * random(),
      favouriteAgents: [favourite(), favourite(), favourite()],
      conversationsPerDay: 1 + Math.floor(random() * 3),
      vibe,
      nextEdit,
    });
  }

  const shareRandom = entityRandom('usage-shares');
  const usageShares = USAGE_LINES.map(() => {
    const raw = workspaceIds.map((_, w) => {
      const draw = shareRandom();
      const weight = 0.2 + 0.8 * shareRandom();
      return w > 0 && draw < 0.2 ? 0 : weight;
    });
    raw.push(0.03 + 0.04 * shareRandom());
    const total = raw.reduce((a, b) => a + b, 0);
    return raw.map((w) => w / total);
  });

  const storageRandom = entityRandom('fine-tuning-storage');
  const fineTuningStorage = [...workspaceIds, null].map((_, slot) => {
    const models: Record<string, number> = {};
    const count = slot === workspaceIds.length ? 0 : Math.floor(storageRandom() * 3);
    for (let i = 0; i < count; i++) {
      const suffix = Math.floor(storageRandom() * 0xffffffff)
        .toString(16)
        .padStart(8, '0');
      models[`ft:mistral-small-2503:${suffix}`] = 50 + Math.floor(storageRandom() * 900);
    }
    return models;
  });

  return { seed, size, workspaceIds, users, agentIds, toolNames, toolWeights, usageShares, fineTuningStorage };
}

/**
 * The usage slots a query covers: every slot (the workspaces and the
 * no-workspace remainder) org-wide, one for a known workspace, none for an
 * unknown id (it is served as empty, not as an error).
 */
export function usageSlotsFor(org: SimOrg, workspaceId: string | undefined): number[] {
  if (workspaceId === undefined) return Array.from({ length: org.workspaceIds.length + 1 }, (_, i) => i);
  const slot = org.workspaceIds.indexOf(workspaceId);
  return slot === -1 ? [] : [slot];
}

/** Whether a user's Vibe activity counts for a workspace filter (undefined: org-wide). */
export function userInWorkspace(org: SimOrg, user: SimUser, workspaceId: string | undefined): boolean {
  return workspaceId === undefined || org.workspaceIds[user.workspace] === workspaceId;
}
