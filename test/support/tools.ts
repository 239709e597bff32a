import { execFileSync, spawnSync } from 'node:child_process';

/**
 * Whether a system tool the tests need (promtool, prometheus, chromium) is on
 * PATH. Missing under CI=true is a failure: the test runs and fails naming
 * the tool. Missing elsewhere skips the test, with a loud line saying so.
 */
export function hasTool(name: string, debianPackage = 'prometheus'): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
  if (!found && process.env.CI !== 'true') {
    process.stderr.write(
      `\n*** SKIPPED: tests that need \`${name}\` did not run: it is not on PATH. ` +
        `Install Debian's ${debianPackage} package (apt-get install ${debianPackage}), or run .ci/run. ***\n\n`,
    );
  }
  return found || process.env.CI === 'true';
}

/** Runs promtool with `input` on standard input; returns its exit status and output. */
export function promtool(args: string[], input?: string): { status: number; output: string } {
  try {
    const output = execFileSync('promtool', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    return { status: 0, output };
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string; code?: string };
    if (e.code === 'ENOENT') throw new Error("promtool is not installed (CI=true requires it: install Debian's prometheus package)");
    return { status: e.status ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/**
 * The variables by which faketime fakes a process's clock (LD_PRELOAD and
 * FAKETIME*), as this process has them: a child that must see the test's
 * clock (a CLI comparing its month with the test's) gets them; a child that
 * must not (Chromium hangs on a faked clock) is started without them.
 */
export function clockEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && (e[0] === 'LD_PRELOAD' || e[0].startsWith('FAKETIME'))),
  );
}

/** This process's environment without what fakes the clock (see clockEnv). */
export function realClockEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const faked = clockEnv(env);
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && !(e[0] in faked)));
}
