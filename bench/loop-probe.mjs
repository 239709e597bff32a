/**
 * Loaded into the exporter's process by the benchmark (`node --import ./bench/loop-probe.mjs dist/main.js`,
 * with an IPC channel): measures its event loop between two messages of the benchmark, without touching src/.
 *
 *   { probe: 'start', histogram }  starts a window: event-loop utilisation and CPU time, and with `histogram`
 *                                  the event-loop delay histogram (1 ms resolution)
 *   { probe: 'stop' }              ends it and answers { probe: 'window', maxBlockMs, p99DelayMs, activeMs, cpuMs, wallMs }
 *
 * The histogram's 1 ms timer costs CPU (tens of ms a second on a busy machine): the benchmark measures
 * the CPU of refreshes in windows without it, and the longest block in windows with it. Off between windows.
 * Plain JavaScript: the exporter runs from dist/ with plain node.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

if (typeof process.send === 'function') {
  let histogram;
  let running = false;
  let elu;
  let cpu;
  let wall;
  process.on('message', (message) => {
    if (message?.probe === 'start') {
      histogram?.disable();
      histogram = undefined;
      if (message.histogram === true) {
        histogram = monitorEventLoopDelay({ resolution: 1 });
        histogram.enable();
      }
      running = true;
      elu = performance.eventLoopUtilization();
      cpu = process.cpuUsage();
      wall = performance.now();
    } else if (message?.probe === 'stop' && running) {
      running = false;
      histogram?.disable();
      const used = process.cpuUsage(cpu);
      const window = performance.eventLoopUtilization(elu);
      process.send({
        probe: 'window',
        // The histogram records delays past the 1 ms resolution: the longest is the longest block.
        maxBlockMs: histogram === undefined ? null : histogram.max / 1e6,
        p99DelayMs: histogram === undefined ? null : histogram.percentile(99) / 1e6,
        activeMs: window.active,
        cpuMs: (used.user + used.system) / 1000,
        wallMs: performance.now() - wall,
      });
      histogram = undefined;
    }
  });
  // The channel must not keep the exporter alive once it is told to stop.
  process.channel?.unref();
}
