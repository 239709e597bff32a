import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/**
 * What renders the Helm chart in the tests: `helm` when it is on PATH, else
 * helm-render (../shared/tools/helm-render/render.sh beside the repository),
 * which renders a chart as `helm template` does and runs `helm lint`'s
 * offline rules. Its first call builds it (about a minute; it installs
 * Debian's Go packages with apt when they are missing).
 */
export interface ChartTool {
  /** `helm` or the path of render.sh. */
  name: string;
  /** `helm template RELEASE CHART ARGS...`. */
  template(release: string, chart: string, args: readonly string[]): Run;
  /** `helm lint --strict CHART ARGS...`. */
  lint(chart: string, args: readonly string[]): Run;
  /**
   * A render with missingkey=error, which `helm lint --strict` also does but
   * helm-render's lint does not; undefined for helm (its lint covers it).
   */
  strictTemplate: ((release: string, chart: string, args: readonly string[]) => Run) | undefined;
}

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for assertion messages. */
  output: string;
}

/** render.sh, located relative to the repository (which sits beside shared/, here and in CI). */
export const RENDER_SH = fileURLToPath(new URL('../../../shared/tools/helm-render/render.sh', import.meta.url));

function run(command: string, args: readonly string[], timeoutMs = 120_000): Run {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  const stdout = r.stdout ?? '';
  const stderr = `${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}`;
  return { status: r.status ?? 1, stdout, stderr, output: `${stdout}${stderr}` };
}

function helmTool(): ChartTool {
  return {
    name: 'helm',
    template: (release, chart, args) => run('helm', ['template', release, chart, ...args]),
    lint: (chart, args) => run('helm', ['lint', '--strict', chart, ...args]),
    strictTemplate: undefined,
  };
}

function renderTool(): ChartTool {
  return {
    name: RENDER_SH,
    template: (release, chart, args) => run(RENDER_SH, [release, chart, ...args]),
    lint: (chart, args) => run(RENDER_SH, ['lint', '--strict', chart, ...args]),
    strictTemplate: (release, chart, args) => run(RENDER_SH, [release, chart, '--strict', ...args]),
  };
}

export interface ChartToolFound {
  tool: ChartTool | undefined;
  /** Why there is none: what was tried and what it said. */
  why: string;
}

/**
 * helm if `helm version` works, else helm-render if `render.sh --help` works
 * (which builds it on the first call). Called once per test file.
 */
export function findChartTool(): ChartToolFound {
  const tried: string[] = [];
  if (spawnSync('sh', ['-c', 'command -v helm'], { encoding: 'utf8' }).status === 0) {
    const v = run('helm', ['version', '--short']);
    if (v.status === 0) return { tool: helmTool(), why: '' };
    tried.push(`helm is on PATH but \`helm version\` failed: ${v.output.trim()}`);
  } else {
    tried.push('helm is not on PATH');
  }
  if (!existsSync(RENDER_SH)) {
    tried.push(`${RENDER_SH} does not exist (shared/ must sit beside the repository)`);
  } else {
    // The first call builds the binary, and may install golang-go with apt: allow it time.
    const probe = run(RENDER_SH, ['--help'], 15 * 60_000);
    if (probe.status === 0) return { tool: renderTool(), why: '' };
    tried.push(`${RENDER_SH} --help failed (exit ${probe.status}); it said:\n${probe.output.trim()}`);
  }
  return { tool: undefined, why: tried.join('; ') };
}

export type Manifest = Record<string, unknown>;

/** The objects of a multi-document YAML stream, without the empty documents. */
export function parseManifests(stream: string): Manifest[] {
  return parseAllDocuments(stream)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors.map((e) => e.message).join('; ')}`);
      return doc.toJS() as Manifest | null;
    })
    .filter((d): d is Manifest => d !== null);
}

/** Shell words of a command line: quotes, backslash-newline continuations, no expansions. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && line[i + 1] === '\n') {
      i++;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (c === '#' && !inWord) {
      while (i < line.length && line[i] !== '\n') i++;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== undefined) throw new Error(`unterminated quote in: ${line}`);
  if (inWord) words.push(word);
  return words;
}

/** The commands of the ```sh blocks of a Markdown text, continuation lines joined. */
export function shellCommands(markdown: string): string[][] {
  const out: string[][] = [];
  for (const block of markdown.matchAll(/^```(?:sh|shell|bash|console)\n([\s\S]*?)^```/gm)) {
    const text = (block[1] as string).replace(/\\\n/g, ' ');
    for (const line of text.split('\n')) {
      const words = shellWords(line.replace(/^\$ /, ''));
      if (words.length > 0) out.push(words);
    }
  }
  return out;
}
