import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PORT } from '../src/config/index.js';
import { NODE_FLAGS } from '../src/node-flags.js';

/**
 * No Docker engine runs here: the image is not built in the tests. These
 * check the Dockerfile's properties that a build would not catch anyway.
 */
const dockerfile = readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8');
const ignore = readFileSync(new URL('../.dockerignore', import.meta.url), 'utf8')
  .split('\n')
  .map((l) => l.trim());
const instructions = dockerfile
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
const stages = instructions.reduce<string[][]>((acc, line) => {
  if (/^FROM\s/i.test(line)) acc.push([]);
  acc[acc.length - 1]?.push(line);
  return acc;
}, []);
const final = stages[stages.length - 1] ?? [];

describe('Dockerfile', () => {
  it('is multi-stage, on the current Node LTS in a slim image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const version = Number(/^ARG NODE_VERSION=(\d+)/m.exec(dockerfile)?.[1]);
    expect(version % 2, 'an LTS line is even').toBe(0);
    expect(version).toBeGreaterThanOrEqual(24);
    expect(final[0]).toMatch(/^FROM node:\$\{NODE_VERSION\}-slim$/);
  });

  it('ships production dependencies and compiled code only', () => {
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    const copies = final.filter((l) => l.startsWith('COPY'));
    expect(copies.every((l) => l.includes('--from=build'))).toBe(true);
    expect(copies.map((l) => l.split(/\s+/).at(-2))).toEqual(['/app/package.json', '/app/node_modules', '/app/dist']);
  });

  it('runs as a numeric non-root user', () => {
    const user = final.find((l) => l.startsWith('USER'));
    expect(user).toMatch(/^USER [1-9]\d*:[1-9]\d*$/);
  });

  it('carries OCI labels and exposes the default port', () => {
    for (const label of ['title', 'description', 'source', 'licenses', 'version', 'revision']) {
      expect(dockerfile).toContain(`org.opencontainers.image.${label}=`);
    }
    expect(final).toContain(`EXPOSE ${DEFAULT_PORT}`);
  });

  it('starts node itself in exec form, so that signals reach it (not npm, not a shell)', () => {
    const entrypoint = final.find((l) => l.startsWith('ENTRYPOINT'));
    expect(JSON.parse(entrypoint?.slice('ENTRYPOINT'.length) ?? 'null')).toEqual(['node', ...NODE_FLAGS, 'dist/main.js']);
    expect(dockerfile).not.toMatch(/^CMD .*npm/m);
  });

  it('starts node with the flags of src/node-flags.ts, as npm start and npm run demo do', () => {
    const scripts = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> })
      .scripts;
    for (const script of ['start', 'demo']) expect(scripts[script]).toContain(`node ${NODE_FLAGS.join(' ')} dist/main.js`);
  });

  it('keeps the build context small: .dockerignore leaves out what the build does not need', () => {
    for (const entry of ['.git', 'node_modules', 'dist', 'test', 'helm']) expect(ignore).toContain(entry);
    for (const needed of ['src', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) {
      expect(ignore).not.toContain(needed);
    }
  });
});
