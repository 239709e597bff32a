import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import { createExporter, type Exporter } from '../src/exporter.js';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { drive } from './support/harness.js';
import { captureLogs } from './support/logs.js';
import { ManualClock } from './support/manual-clock.js';

/**
 * The Admin API key read from MISTRAL_ADMIN_API_KEY_FILE is re-read when the
 * file changes, as Kubernetes changes a mounted Secret: a new timestamped
 * directory, then a rename of the `..data` symlink over the old one. The
 * simulator checks the key and records each request's headers.
 */
const OLD_KEY = 'old-key-Wq8zR2mXv5';
const NEW_KEY = 'new-key-Tb4nK7pLc1';

let dir = '';
let sim: Simulator | undefined;
let exporter: Exporter | undefined;

afterEach(async () => {
  await exporter?.app.close();
  await exporter?.close();
  exporter = undefined;
  await sim?.close();
  sim = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A Secret volume holding `api-key`; returns how to update it the way the kubelet does. */
function secretVolume(key: string): { file: string; update(value: string): void } {
  dir = mkdtempSync(join(tmpdir(), 'mae-key-'));
  let generation = 0;
  const write = (value: string): void => {
    const target = `..2026_11_15_12_00_0${++generation}`;
    mkdirSync(join(dir, target));
    writeFileSync(join(dir, target, 'api-key'), value);
    symlinkSync(target, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  write(`${key}\n`);
  symlinkSync(join('..data', 'api-key'), join(dir, 'api-key'));
  return { file: join(dir, 'api-key'), update: write };
}

async function start(keyFile: string) {
  const clock = new ManualClock();
  // The simulator knows only the new key: requests with the old one get 401.
  sim = await startSimulator({ apiKey: NEW_KEY, now: () => clock.now() });
  const command = loadConfig({
    argv: [],
    env: {
      MISTRAL_ADMIN_API_KEY_FILE: keyFile,
      MISTRAL_ADMIN_API_URL: sim.url,
      MISTRAL_ENDPOINTS: 'spend_limit',
      REFRESH_INTERVAL: '1h',
      MAX_STALENESS: '2h',
    },
  });
  if (command.kind !== 'run') throw new Error('unexpected command');
  const logs = captureLogs();
  exporter = createExporter(command.config, {
    logger: logs.logger,
    clock,
    retry: { maxRetries: 0, baseDelayMs: 1000, maxDelayMs: 1000, maxRetryAfterMs: 1000 },
    processMetrics: false,
  });
  const e = exporter;
  const s = sim;
  return {
    logs,
    exporter: e,
    refresh: () => drive(clock, e.scheduler.refresh('spend_limit')),
    /** The key the last request carried, and the status it got. */
    last: () => {
      const r = s.requests[s.requests.length - 1];
      return { key: r?.headers['x-api-key'], status: r?.status };
    },
  };
}

describe('the Admin API key re-read from its file', () => {
  it('uses the new key from the next request once the Secret is updated, without a restart', async () => {
    const volume = secretVolume(OLD_KEY);
    const { exporter: e, refresh, last, logs } = await start(volume.file);
    await refresh();
    expect(last()).toEqual({ key: OLD_KEY, status: 401 });

    volume.update(`${NEW_KEY}\n`);
    // Applied once the change held still for one more poll.
    await e.pollFiles();
    await e.pollFiles();
    await refresh();
    expect(last()).toEqual({ key: NEW_KEY, status: 200 });
    expect(sim?.requests.at(-1)?.headers.authorization).toBe(`Bearer ${NEW_KEY}`);
    expect(logs.lines().some((l) => /the key changed; the next Admin API request uses the new one/.test(l.msg))).toBe(true);
    expect(logs.text()).not.toContain(NEW_KEY);
    expect(logs.text()).not.toContain(OLD_KEY);
  });

  it.each<[string, (volume: ReturnType<typeof secretVolume>) => void, RegExp]>([
    ['empty', (v) => v.update('\n'), /the file is empty now; keeping the key in use/],
    ['unreadable (removed)', () => rmSync(join(dir, '..data')), /cannot read the file \(ENOENT\); keeping the key in use/],
    [
      'a key with a space in it',
      (v) => v.update('new key'),
      /cannot be sent: it contains a space or tab \(character 4\); keeping the key in use/,
    ],
  ])('keeps the key in use when the new file is %s, and says so', async (_name, breakIt, message) => {
    const volume = secretVolume(NEW_KEY);
    const { exporter: e, refresh, last, logs } = await start(volume.file);
    breakIt(volume);
    await e.pollFiles();
    await e.pollFiles();
    await refresh();
    expect(last()).toEqual({ key: NEW_KEY, status: 200 });
    const error = logs.lines().find((l) => l.level === 'error');
    expect(error?.msg).toMatch(message);
    expect(error?.msg).toContain('MISTRAL_ADMIN_API_KEY_FILE=');
    expect(logs.text()).not.toContain(NEW_KEY);
  });

  it('is scrubbed from the logs once rotated, like the first key', async () => {
    const { createLogger } = await import('../src/logger.js');
    const lines: string[] = [];
    const { Writable } = await import('node:stream');
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const volume = secretVolume(OLD_KEY);
    const { exporter: e } = await start(volume.file);
    const logger = createLogger({ level: 'info', secrets: () => e.secrets(), destination });
    volume.update(NEW_KEY);
    await e.pollFiles();
    await e.pollFiles();
    logger.info(`an echoed body with ${NEW_KEY} and ${OLD_KEY} in it`);
    expect(lines.join('')).not.toContain(NEW_KEY);
    expect(lines.join('')).not.toContain(OLD_KEY);
    expect(lines.join('')).toContain('[REDACTED]');
  });
});
