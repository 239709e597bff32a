import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './support/harness.js';
import { hasTool, promtool } from './support/tools.js';

const GOLDEN = new URL('./golden/metrics.prom', import.meta.url);

/**
 * What varies between machines and releases, not between runs of the same
 * code: Node's version and our own version.
 */
function normalise(text: string): string {
  return text
    .replace(/nodejs_version="[^"]*"/g, 'nodejs_version="NODE"')
    .replace(/(mistral_exporter_build_info\{version=)"[^"]*"/g, '$1"VERSION"');
}

let h: Harness;
let text: string;

beforeAll(async () => {
  // The simulator and exporter on a manual clock: every value is deterministic.
  // Per-user series on and small caps, so that every metric of the catalog and the dropped counts show;
  // the simulator's odd shapes (GPU hours, reserved instances, a negative entry...) for the same reason.
  h = await startHarness({
    processMetrics: true,
    sim: { oddShapes: true },
    env: {
      LECHAT_USER_METRICS: 'true',
      LECHAT_USER_LIMIT: '3',
      LECHAT_USER_ID_HASH_KEY: 'golden-key',
      LECHAT_AGENT_LIMIT: '4',
      VIBE_TOOL_LIMIT: '5',
      API_KEYS_LIMIT: '20',
      // Usage and Vibe Code following the workspaces listed, two of three (the one with a limit first): its spend against its limit shows.
      MISTRAL_WORKSPACE_IDS: 'all',
      MAX_WORKSPACES: '2',
      SEAT_PRICE_CHAT: '14.99 EUR',
    },
  });
  await h.refreshAll();
  text = await h.scrape();
});
afterAll(async () => {
  await h.close();
});

describe('/metrics', () => {
  it('matches the golden file line by line (UPDATE_GOLDEN=1 rewrites it)', () => {
    const ours = normalise(
      text
        .split('\n')
        .filter((l) => !/^(# (HELP|TYPE) )?(process|nodejs)_/.test(l))
        .join('\n'),
    );
    if (process.env.UPDATE_GOLDEN === '1') {
      // Asked for: rewrite it (the comparison below then passes; review the diff before committing).
      writeFileSync(GOLDEN, ours);
    } else if (!existsSync(GOLDEN)) {
      // Nothing to compare with: writing it and comparing it with itself would pass whatever we serve.
      if (process.env.CI !== 'true') writeFileSync(GOLDEN, ours);
      throw new Error(
        process.env.CI === 'true'
          ? 'test/golden/metrics.prom is missing: generate it (UPDATE_GOLDEN=1) and commit it'
          : 'test/golden/metrics.prom was missing: written now from this run; review it, commit it and run again',
      );
    }
    const golden = readFileSync(GOLDEN, 'utf8').split('\n');
    const lines = ours.split('\n');
    for (let i = 0; i < Math.max(golden.length, lines.length); i++) {
      expect(lines[i], `line ${i + 1} of test/golden/metrics.prom`).toBe(golden[i]);
    }
  });

  it.runIf(hasTool('promtool'))('passes `promtool check metrics` with no finding, process metrics included', () => {
    const result = promtool(['check', 'metrics'], text);
    expect(result.output.trim()).toBe('');
    expect(result.status).toBe(0);
  });

  it('serves every metric of docs/metrics.md, and documents every mistral_* metric it serves', () => {
    const doc = readFileSync(new URL('../docs/metrics.md', import.meta.url), 'utf8');
    const documented = new Set([...doc.matchAll(/^\| `(mistral_[a-z_]+)` \|/gm)].map((m) => m[1] as string));
    const exposedWithSamples = new Set(
      text
        .split('\n')
        .filter((l) => l.startsWith('mistral_'))
        .map((l) => (/^[a-z_]+/.exec(l) as RegExpExecArray)[0]),
    );
    const families = new Set([...text.matchAll(/^# TYPE (mistral_[a-z_]+) /gm)].map((m) => m[1] as string));
    expect(documented.size).toBeGreaterThan(20);
    expect(
      [...documented].filter((m) => !exposedWithSamples.has(m)),
      'documented but not served with a sample',
    ).toEqual([]);
    // Counters are documented by their sample name, with _total.
    expect(
      [...families].filter((m) => !documented.has(m) && !documented.has(`${m}_total`)),
      'served but not documented',
    ).toEqual([]);
  });
});
