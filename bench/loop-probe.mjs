/**
 * Loaded into the exporter's process by the benchmark (`node --import ./bench/loop-probe.mjs dist/main.js`,
 * with an IPC channel): measures its event loop between two messages of the benchmark, without touching src/.
 *
 *   { probe: 'start', histogram }  starts a window: event-loop utilisation and CPU time, and with `histogram`
 *                                  the event-loop delay histogram (1 ms resolution)
 *   { probe: 'stop' }              ends it and answers { probe: 'window', maxBlockMs, maxCpuBlockMs, p99DelayMs, activeMs, cpuMs, wallMs }
 *
 * maxBlockMs is the histogram's longest delay: the loop held, or the process kept off its core (the benchmark's
 * own processes are not pinned and may share it). maxCpuBlockMs counts each gap of a 1 ms timer as the CPU time
 * the process used in it when that is less: the loop held by the process's own work (bench/support/ticker.ts reads
 * blocks the same way).
 *
 * The histogram's 1 ms timer costs CPU (tens of ms a second on a busy machine): the benchmark measures
 * the CPU of refreshes in windows without it, and the longest block in windows with it. Off between windows.
 * Plain JavaScript: the exporter runs from dist/ with plain node.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

if (typeof process.send === 'function') {
  let histogram;
  let ticker;
  let running = false;
  const cpuNow = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  /** A 1 ms timer: the longest gap between its ticks, counted as the CPU time used in it when that is less. */
  const startTicker = () => {
    const t = { maxCpuBlockMs: 0, lastTick: performance.now(), lastCpu: cpuNow() };
    t.note = () => {
      const gap = performance.now() - t.lastTick;
      const cpu = cpuNow() - t.lastCpu;
      t.maxCpuBlockMs = Math.max(t.maxCpuBlockMs, Math.min(gap, cpu));
      t.lastTick = performance.now();
      t.lastCpu = cpuNow();
    };
    t.timer = setInterval(t.note, 1);
    return t;
  };
  let elu;
  let cpu;
  let wall;
  process.on('message', (message) => {
    if (message?.probe === 'start') {
      histogram?.disable();
      histogram = undefined;
      if (ticker) clearInterval(ticker.timer);
      ticker = undefined;
      if (message.histogram === true) {
        histogram = monitorEventLoopDelay({ resolution: 1 });
        histogram.enable();
        ticker = startTicker();
      }
      running = true;
      elu = performance.eventLoopUtilization();
      cpu = process.cpuUsage();
      wall = performance.now();
    } else if (message?.probe === 'stop' && running) {
      running = false;
      histogram?.disable();
      // The interval still open counts too.
      ticker?.note();
      if (ticker) clearInterval(ticker.timer);
      const used = process.cpuUsage(cpu);
      const window = performance.eventLoopUtilization(elu);
      process.send({
        probe: 'window',
        // The histogram records delays past the 1 ms resolution: the longest, whatever held the loop or the process.
        maxBlockMs: histogram === undefined ? null : histogram.max / 1e6,
        maxCpuBlockMs: ticker === undefined ? null : ticker.maxCpuBlockMs,
        p99DelayMs: histogram === undefined ? null : histogram.percentile(99) / 1e6,
        activeMs: window.active,
        cpuMs: (used.user + used.system) / 1000,
        wallMs: performance.now() - wall,
      });
      histogram = undefined;
      ticker = undefined;
    }
  });
  // The channel must not keep the exporter alive once it is told to stop.
  process.channel?.unref();
}
