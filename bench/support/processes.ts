/**
 * Child processes of the benchmarks: waiting for the line that says a server
 * listens, and the simulator CLI in a process of its own (so that its work,
 * generating a large organization's activity, is not counted as the
 * exporter's CPU or event-loop time).
 */
import { type ChildProcess, spawn } from 'node:child_process';

/** Resolves with the first match of `pattern` in the child's stdout (later output is drained); rejects if it exits first. */
export function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        child.off('exit', onExit);
        resolve(m);
      }
    };
    const onExit = (code: number | null) => reject(new Error(`${what} exited with ${code}: ${out.slice(-2000)}`));
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** The simulator CLI (src/simulator/cli.ts) on a free port with `args` (e.g. `--api-key K --users 10000`). */
export async function startSimulatorProcess(args: readonly string[]): Promise<{ url: string; stop: () => void }> {
  const cli = new URL('../../src/simulator/cli.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const m = await waitForLine(child, /listening on (\S+)/, 'the simulator');
  return { url: m[1] as string, stop: () => child.kill('SIGTERM') };
}
