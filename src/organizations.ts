import type { ApiEndpoint } from './endpoints.js';
import type { RenderedChunk } from './exposition.js';
import { chunkOfBody } from './render/chunk.js';
import { concat, familyHeader, renderGauges } from './render/lines.js';
import type { Logger } from './logger.js';
import type { MetricFamily } from './sources/types.js';

/**
 * Families of one organization of several, each sample labelled with its
 * `org` (first, so that a series reads organization first). A copy made to
 * be rendered, then let go: only the rendering is kept.
 */
export function withOrgLabel(families: readonly MetricFamily[], org: string): MetricFamily[] {
  return families.map((f) => ({
    ...f,
    labelNames: ['org', ...f.labelNames],
    samples: f.samples.map((s) => ({ labels: { org, ...s.labels }, value: s.value })),
  }));
}

/**
 * The families of several organizations, one endpoint at a time, merged into
 * one family per metric: the exposition allows a metric's HELP, TYPE and
 * series in one place only, so two organizations' `mistral_spend` are one
 * family of series told apart by `org`. Each organization's scheduler hands
 * its families over (`update`) when a refresh succeeds and when they turn
 * stale; the endpoint is then rendered again, in the background, from what
 * every organization holds. Scrapes read `chunks()`, never waiting for it.
 *
 * A withdrawal therefore leaves /metrics once the endpoint is rendered again
 * without it: the time of one render (milliseconds; about a second for
 * 100 000 series), not a scrape interval.
 */
export class MergedExposition {
  private readonly endpoints = new Map<ApiEndpoint, EndpointState>();

  /**
   * `organizations`: names in the order their series are written;
   * `endpoints`: every endpoint any of them reads, in the order served.
   */
  constructor(
    private readonly organizations: readonly string[],
    endpoints: readonly ApiEndpoint[],
    private readonly logger: Logger,
  ) {
    for (const endpoint of endpoints) {
      this.endpoints.set(endpoint, { held: new Map(), chunk: undefined, dirty: false, rendering: undefined });
    }
  }

  /** One organization's families of `endpoint` (undefined: it has none fresh); rendered again soon after. */
  update(org: string, endpoint: ApiEndpoint, families: readonly MetricFamily[] | undefined): void {
    const state = this.endpoints.get(endpoint);
    if (state === undefined) throw new Error(`MergedExposition: ${endpoint} was not declared`);
    if (families === undefined) state.held.delete(org);
    else state.held.set(org, families);
    state.dirty = true;
    state.rendering ??= this.render(state)
      .catch((err: unknown) => {
        // Never expected; the endpoint then keeps its last rendering until the next update renders it again.
        this.logger.error({ api_endpoint: endpoint, err }, `rendering ${endpoint} of every organization failed`);
      })
      .finally(() => {
        state.rendering = undefined;
      });
  }

  /** The rendered endpoints that hold series of some organization, in the order served. */
  chunks(): RenderedChunk[] {
    const out: RenderedChunk[] = [];
    for (const state of this.endpoints.values()) if (state.chunk !== undefined && state.held.size > 0) out.push(state.chunk);
    return out;
  }

  /** Resolves once no render is running or due. */
  async whenIdle(): Promise<void> {
    for (;;) {
      const running = [...this.endpoints.values()].flatMap((s) => (s.rendering ? [s.rendering] : []));
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  private async render(state: EndpointState): Promise<void> {
    while (state.dirty) {
      state.dirty = false;
      const parts = await Promise.all(
        this.organizations.flatMap((org) => {
          const families = state.held.get(org);
          return families === undefined ? [] : [renderedOf(families, org)];
        }),
      );
      const { body, familyStarts, series } = await joinRendered(parts);
      state.chunk = await chunkOfBody(body, familyStarts, series, state.chunk);
    }
  }
}

/** One organization's families of an endpoint, rendered (OpenMetrics, no `# EOF`), and where each family is in the bytes. */
interface OrgRendering {
  body: Buffer;
  families: ReadonlyArray<{ name: string; start: number; end: number; headerLength: number }>;
  series: number;
}

/**
 * Each organization's rendering, kept with the families it was made from: a
 * refresh of one organization renders its own series only, and the
 * endpoint's answer is joined from the renderings of all (a copy of bytes).
 */
const renderings = new WeakMap<readonly MetricFamily[], Promise<OrgRendering>>();

function renderedOf(families: readonly MetricFamily[], org: string): Promise<OrgRendering> {
  let made = renderings.get(families);
  if (made === undefined) {
    made = renderGauges(withOrgLabel(families, org)).then(({ body, familyStarts }) => ({
      body,
      families: families.map((f, i) => ({
        name: f.name,
        start: familyStarts[i] as number,
        end: familyStarts[i + 1] ?? body.length,
        headerLength: Buffer.byteLength(familyHeader(f.name, f.help, 'gauge')),
      })),
      series: families.reduce((n, f) => n + f.samples.length, 0),
    }));
    renderings.set(families, made);
  }
  return made;
}

/**
 * One body from the organizations' renderings: each metric once, its HELP
 * and TYPE from the first organization that has it, then every
 * organization's series in turn (the bytes a render of the merged families
 * gives, without rendering any series again).
 */
async function joinRendered(parts: readonly OrgRendering[]): Promise<{ body: Buffer; familyStarts: number[]; series: number }> {
  const byName = new Map<string, Buffer[]>();
  for (const part of parts) {
    for (const f of part.families) {
      const pieces = byName.get(f.name);
      if (pieces === undefined) byName.set(f.name, [part.body.subarray(f.start, f.end)]);
      else pieces.push(part.body.subarray(f.start + f.headerLength, f.end));
    }
  }
  const all: Buffer[] = [];
  const familyStarts: number[] = [];
  let length = 0;
  for (const pieces of byName.values()) {
    familyStarts.push(length);
    for (const piece of pieces) {
      all.push(piece);
      length += piece.length;
    }
  }
  const series = parts.reduce((n, p) => n + p.series, 0);
  return { body: await concat(all, length), familyStarts, series };
}

interface EndpointState {
  /** Each organization's fresh families of the endpoint, unlabelled. */
  held: Map<string, readonly MetricFamily[]>;
  chunk: RenderedChunk | undefined;
  /** Something changed since the render running (or none ran). */
  dirty: boolean;
  rendering: Promise<void> | undefined;
}
