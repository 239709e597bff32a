/**
 * The benchmark's chart (bench/bench.ts): scrapes per second and p99 latency against the series
 * served, one line per server, at 8 connections with Prometheus's headers. Vega-Lite, rendered to
 * SVG by Vega without a browser.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

interface ChartCell {
  series: number;
  target: string;
  scrapesPerSecond: number;
  p99Ms: number;
}

const NAMES: Record<string, string> = {
  exporter: 'mistral-admin-exporter',
  static: 'static node:http (same bytes)',
  naive: 'naive prom-client exporter',
  pushgateway: 'prometheus-pushgateway',
};

export async function renderChart(cells: readonly ChartCell[], quick: boolean): Promise<string> {
  const values = cells.map((c) => ({ series: c.series, server: NAMES[c.target] ?? c.target, rps: c.scrapesPerSecond, p99: c.p99Ms }));
  const x = {
    field: 'series',
    type: 'quantitative',
    scale: { type: 'log', nice: false },
    title: 'series on /metrics',
    axis: { format: '~s' },
  } as const;
  const color = { field: 'server', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 2, labelLimit: 400 } } as const;
  const panel = (field: 'rps' | 'p99', title: string) => ({
    width: 300,
    height: 220,
    // Log scales: a run with no answer (0 scrapes/s), or none within wrk's timeout (no latency), has no point.
    transform: [{ filter: `datum.${field} > 0` }],
    mark: { type: 'line', point: true },
    encoding: { x, y: { field, type: 'quantitative', scale: { type: 'log' }, title }, color },
  });
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Scrapes of /metrics: 8 connections, Prometheus headers (OpenMetrics, gzip)',
      subtitle: quick
        ? 'npm run bench -- --quick: one short repetition on a shared machine, indicative only'
        : 'npm run bench: median of 3',
    },
    data: { values },
    hconcat: [panel('rps', 'scrapes per second'), panel('p99', 'p99 latency (ms)')],
    config: { font: 'sans-serif', background: 'white' },
  } as TopLevelSpec;
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
