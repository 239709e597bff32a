import { performance } from 'node:perf_hooks';

/** This process's CPU time so far, in ms (every thread: zlib's included). */
export function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** What a 1 ms timer saw of the event loop since it started or was reset, the interval still open included. */
export interface Ticks {
  /** The longest wall-clock time between two ticks: the loop held, or the process kept off a core. */
  longestGap: number;
  /** The most CPU time the process used between two ticks. */
  mostCpu: number;
  /**
   * The longest block: each gap counted as the CPU time used in it when that is less (on a shared machine a gap may be
   * time spent waiting for a core, which is not a block of ours).
   */
  longestBlock: number;
}

/** Starts a 1 ms timer watching the event loop. */
export function startTicker(): { reset(): void; read(): Ticks; stop(): void } {
  let ticks: Ticks = { longestGap: 0, mostCpu: 0, longestBlock: 0 };
  let lastTick = performance.now();
  let lastCpu = cpuMs();
  const note = (into: Ticks) => {
    const gap = performance.now() - lastTick;
    const cpu = cpuMs() - lastCpu;
    into.longestGap = Math.max(into.longestGap, gap);
    into.mostCpu = Math.max(into.mostCpu, cpu);
    into.longestBlock = Math.max(into.longestBlock, Math.min(gap, cpu));
  };
  const timer = setInterval(() => {
    note(ticks);
    lastTick = performance.now();
    lastCpu = cpuMs();
  }, 1);
  return {
    reset() {
      ticks = { longestGap: 0, mostCpu: 0, longestBlock: 0 };
      lastTick = performance.now();
      lastCpu = cpuMs();
    },
    read() {
      const now = { ...ticks };
      note(now);
      return now;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
