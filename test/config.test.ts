import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_PORT, helpText, loadConfig, type Config } from '../src/config/index.js';
import { formatDuration, parseBytes, parseDuration } from '../src/config/values.js';
import { API_ENDPOINTS } from '../src/endpoints.js';
import { CATALOG } from '../src/sources/catalog.js';

const KEY = 'test-key-0123456789';

/** A file system holding only `files`. */
function readFrom(files: Record<string, string>): (path: string) => string {
  return (path) => {
    const content = files[path];
    if (content === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    return content;
  };
}

function run(argv: string[] = [], env: Record<string, string> = {}): Config {
  const command = loadConfig({ argv, env: { MISTRAL_ADMIN_API_KEY: KEY, ...env }, readFile: readFrom({}) });
  if (command.kind !== 'run') throw new Error(`expected run, got ${command.kind}`);
  return command.config;
}

function failure(argv: string[], env: Record<string, string | undefined>): string {
  try {
    loadConfig({ argv, env, readFile: readFrom({}) });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('durations and sizes', () => {
  it.each([
    ['1s', 1000],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1d', 86_400_000],
    ['1.5s', 1500],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '5', '5x', 'm5', '30s5m', '1h 30m', '-1s'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow();
  });

  it('formats durations the way they are written', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(60_000)).toBe('1m');
    expect(formatDuration(1500)).toBe('1s500ms');
  });

  it.each([
    ['32MiB', 33_554_432],
    ['500kB', 500_000],
    ['1048576', 1_048_576],
    ['2gib', 2 * 1024 ** 3],
  ])('size %s is %d bytes', (text, n) => {
    expect(parseBytes(text)).toBe(n);
  });
});

describe('loadConfig', () => {
  it('has documented defaults', () => {
    const c = run();
    expect(c.apiKey?.reveal()).toBe(KEY);
    expect(c.apiUrl).toBe('https://console.mistral.ai/api/admin');
    expect(c.pathLayout).toBe('auto');
    expect(c.workspaceIds).toEqual([]);
    expect(c.endpoints).toEqual([...API_ENDPOINTS]);
    expect(c.refreshIntervalsMs).toMatchObject({
      usage: 60_000,
      spend_limit: 60_000,
      rate_limit: 60_000,
      lechat_by_user: 600_000,
      vibe_by_organization: 600_000,
    });
    expect(c.analytics).toMatchObject({ agentLimit: 100, userMetrics: false, userLimit: 10_000, toolLimit: 50, userIdHashKey: undefined });
    expect(c.analytics.windows).toEqual([
      { label: '1d', ms: 86_400_000, days: 1 },
      { label: '7d', ms: 604_800_000, days: 7 },
      { label: '30d', ms: 2_592_000_000, days: 30 },
    ]);
    expect(c.maxStalenessMs).toBe(3_600_000);
    expect(c.requestTimeoutMs).toBe(30_000);
    expect(c.maxResponseBytes).toBe(32 * 1024 ** 2);
    expect(c.port).toBe(DEFAULT_PORT);
    expect(c.host).toBe('0.0.0.0');
    expect(c.logLevel).toBe('info');
    expect(c.demo).toBe(false);
  });

  it('takes flags over environment over defaults', () => {
    const c = run(['--port', '9999', '--refresh-interval', '2m'], { PORT: '8888', REFRESH_INTERVAL: '3m', LOG_LEVEL: 'DEBUG' });
    expect(c.port).toBe(9999);
    expect(c.refreshIntervalsMs.usage).toBe(120_000);
    expect(c.logLevel).toBe('debug');
  });

  it('lets a per-endpoint interval win over the global one, down to 1s', () => {
    const c = run([], {
      REFRESH_INTERVAL: '5m',
      REFRESH_INTERVAL_SPEND_LIMIT: '1s',
      ANALYTICS_REFRESH_INTERVAL: '20m',
      REFRESH_INTERVAL_VIBE_BY_WORKSPACE: '1s',
    });
    // Every endpoint follows its group's interval (billing: REFRESH_INTERVAL, analytics: ANALYTICS_REFRESH_INTERVAL) unless its own is set.
    const expected = Object.fromEntries(CATALOG.map((e) => [e.id, e.intervalGroup === 'billing' ? 300_000 : 1_200_000]));
    expect(c.refreshIntervalsMs).toEqual({ ...expected, spend_limit: 1000, vibe_by_workspace: 1000 });
    expect(c.refreshIntervalsMs.usage).toBe(300_000);
    expect(c.refreshIntervalsMs.lechat_by_user).toBe(1_200_000);
  });

  it('reads analytics windows as written, shortest first, and a subset of endpoints', () => {
    const c = run([], { ANALYTICS_WINDOWS: '2w,1d', MISTRAL_ENDPOINTS: 'spend_limit, usage' });
    expect(c.analytics.windows.map((w) => [w.label, w.days])).toEqual([
      ['1d', 1],
      ['2w', 14],
    ]);
    expect(c.endpoints).toEqual(['spend_limit', 'usage']);
  });

  it('checks staleness only against the endpoints that are read', () => {
    const c = run([], { MISTRAL_ENDPOINTS: 'spend_limit', ANALYTICS_REFRESH_INTERVAL: '2h' });
    expect(c.maxStalenessMs).toBe(3_600_000);
  });

  it('reads the user-id hash key from a file', () => {
    const c = loadConfig({
      argv: [],
      env: { MISTRAL_ADMIN_API_KEY: KEY, LECHAT_USER_ID_HASH_KEY_FILE: '/k2' },
      readFile: readFrom({ '/k2': 'pepper\n' }),
    });
    expect(c.kind === 'run' && c.config.analytics.userIdHashKey?.reveal()).toBe('pepper');
  });

  it('reads workspaces as a list, dropping blanks and repeats', () => {
    expect(run([], { MISTRAL_WORKSPACE_IDS: ' a, b,,a ' }).workspaceIds).toEqual(['a', 'b']);
  });

  it('MISTRAL_WORKSPACE_IDS=all follows the workspaces endpoint, which must then be read', () => {
    expect(run([], { MISTRAL_WORKSPACE_IDS: ' All ' })).toMatchObject({ workspaceIds: 'all', maxWorkspaces: 100 });
    expect(run([], { MISTRAL_WORKSPACE_IDS: 'all', MAX_WORKSPACES: '7' }).maxWorkspaces).toBe(7);
    expect(() => run([], { MISTRAL_WORKSPACE_IDS: 'all', MISTRAL_ENDPOINTS: 'usage,spend_limit' })).toThrow(
      /^MISTRAL_WORKSPACE_IDS=all follows the workspaces GET workspaces lists: add workspaces to MISTRAL_ENDPOINTS, or list the workspace ids$/,
    );
    expect(() => run([], { MISTRAL_WORKSPACE_IDS: 'a,all' })).toThrow(/all alone/);
  });

  it('strips a trailing slash of the URL and treats empty variables as unset', () => {
    const c = run([], { MISTRAL_ADMIN_API_URL: 'https://api.mistral.ai/v1/admin/', PORT: '' });
    expect(c.apiUrl).toBe('https://api.mistral.ai/v1/admin');
    expect(c.port).toBe(DEFAULT_PORT);
  });

  it('reads the key from a file, trimmed', () => {
    const c = loadConfig({ argv: [], env: { MISTRAL_ADMIN_API_KEY_FILE: '/run/key' }, readFile: readFrom({ '/run/key': `  ${KEY}\n` }) });
    expect(c.kind === 'run' && c.config.apiKey?.reveal()).toBe(KEY);
  });

  it('needs no key in demo mode, and ignores one that is set', () => {
    expect(run(['--demo']).apiKey).toBeUndefined();
    const c = loadConfig({ argv: ['--demo'], env: {} });
    expect(c.kind === 'run' && c.config.demo).toBe(true);
  });

  it('reads `check` as a command with the same settings, flags before or after it, and --save-answers only with it', () => {
    const env = { MISTRAL_ADMIN_API_KEY: KEY };
    const c = loadConfig({ argv: ['--refresh-interval', '5m', 'check', '--save-answers', 'out'], env });
    expect(c).toMatchObject({ kind: 'check', saveAnswers: 'out', config: { refreshIntervalsMs: { usage: 300_000 } } });
    expect(loadConfig({ argv: ['check'], env })).toMatchObject({ kind: 'check', saveAnswers: undefined, config: run() });
    expect(failure(['check', 'now'], env)).toBe('unexpected argument "now" after check (see --help)');
    expect(failure(['--save-answers', 'out'], env)).toMatch(/^--save-answers is only for check/);
    expect(failure(['check', '--save-answers', ''], env)).toBe('--save-answers: give a directory');
  });

  it('answers --help and --version before checking anything else', () => {
    expect(loadConfig({ argv: ['--help'], env: { PORT: 'nope' } }).kind).toBe('help');
    expect(loadConfig({ argv: ['--version'], env: {} }).kind).toBe('version');
  });

  describe('errors: one line naming the setting and what to do', () => {
    it.each<[string, string[], Record<string, string | undefined>, RegExp]>([
      ['missing key', [], {}, /^MISTRAL_ADMIN_API_KEY is not set: .*MISTRAL_ADMIN_API_KEY_FILE.*--demo/],
      ['empty key', [], { MISTRAL_ADMIN_API_KEY: '  ' }, /^MISTRAL_ADMIN_API_KEY is set but empty/],
      ['both key sources', [], { MISTRAL_ADMIN_API_KEY: KEY, MISTRAL_ADMIN_API_KEY_FILE: '/k' }, /both set/],
      [
        'unreadable key file',
        [],
        { MISTRAL_ADMIN_API_KEY_FILE: '/missing' },
        /^MISTRAL_ADMIN_API_KEY_FILE="\/missing": cannot read the file \(ENOENT\)/,
      ],
      ['bad duration', [], { MISTRAL_ADMIN_API_KEY: KEY, REFRESH_INTERVAL: '5x' }, /^REFRESH_INTERVAL="5x": not a duration/],
      [
        'interval below 1s',
        [],
        { MISTRAL_ADMIN_API_KEY: KEY, REFRESH_INTERVAL_USAGE: '500ms' },
        /^REFRESH_INTERVAL_USAGE="500ms": must be at least 1s/,
      ],
      ['bad port flag', ['--port', '70000'], { MISTRAL_ADMIN_API_KEY: KEY }, /^--port="70000": must be between 0 and 65535/],
      [
        'bad layout',
        [],
        { MISTRAL_ADMIN_API_KEY: KEY, MISTRAL_ADMIN_API_PATH_LAYOUT: 'v2' },
        /must be one of auto, brief, legacy, current/,
      ],
      [
        'URL with credentials',
        [],
        { MISTRAL_ADMIN_API_KEY: KEY, MISTRAL_ADMIN_API_URL: 'https://u:p@x.example' },
        /must not carry credentials/,
      ],
      [
        'staleness below an interval',
        [],
        { MISTRAL_ADMIN_API_KEY: KEY, MAX_STALENESS: '5m', REFRESH_INTERVAL_USAGE: '10m' },
        /^MAX_STALENESS=5m: must be longer than the longest refresh interval \(10m, for usage\)/,
      ],
      ['unknown flag', ['--api-key', 'x'], { MISTRAL_ADMIN_API_KEY: KEY }, /Unknown option '--api-key'.*see --help/],
      [
        'a window of hours',
        [],
        { MISTRAL_ADMIN_API_KEY: KEY, ANALYTICS_WINDOWS: '1d,12h' },
        /^ANALYTICS_WINDOWS="1d,12h": 12h is not a whole number of days/,
      ],
      [
        'an unknown endpoint',
        [],
        { MISTRAL_ADMIN_API_KEY: KEY, MISTRAL_ENDPOINTS: 'usage,billing' },
        /^MISTRAL_ENDPOINTS="usage,billing": must be one of spend_limit, usage/,
      ],
      ['an empty hash key', [], { MISTRAL_ADMIN_API_KEY: KEY, LECHAT_USER_ID_HASH_KEY: '' }, /^LECHAT_USER_ID_HASH_KEY is set but empty/],
      [
        'analytics slower than the staleness',
        [],
        { MISTRAL_ADMIN_API_KEY: KEY, ANALYTICS_REFRESH_INTERVAL: '2h' },
        /^MAX_STALENESS=1h: must be longer than the longest refresh interval \(2h, for api_keys\)/,
      ],
    ])('%s', (_name, argv, env, pattern) => {
      const message = failure(argv, env);
      expect(message).toMatch(pattern);
      expect(message).not.toContain('\n');
    });

    it('never shows the key, even when it is malformed', () => {
      const message = failure([], { MISTRAL_ADMIN_API_KEY: 'secret part two' });
      expect(message).toMatch(/^MISTRAL_ADMIN_API_KEY: the value contains spaces or control characters/);
      expect(message).not.toContain('secret');
    });

    it('never offers the key as a flag', () => {
      expect(helpText('0.0.0')).not.toMatch(/--(mistral-admin-)?api-key\b(?!-file)/);
    });
  });
});

describe('documentation made from the settings table', () => {
  it('--help lists every setting with its variable and default', () => {
    const help = helpText('1.2.3');
    for (const v of ['MISTRAL_ADMIN_API_KEY', 'MISTRAL_ADMIN_API_KEY_FILE', 'REFRESH_INTERVAL_SPEND_LIMIT', 'MAX_STALENESS', 'PORT']) {
      expect(help).toContain(`env ${v};`);
    }
    expect(help).toContain(`default ${DEFAULT_PORT}`);
    expect(help).toContain('--demo');
  });
});
