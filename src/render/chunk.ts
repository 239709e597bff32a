import { promisify } from 'node:util';
import { constants, deflateRaw as deflateRawCallback, inflateRaw as inflateRawCallback } from 'node:zlib';
import type { MetricFamily } from '../sources/types.js';
import { crc32Sliced } from './crc32.js';
import { type Format, openMetricsFromText, renderGauges, textFromOpenMetrics } from './lines.js';

const deflateRaw = promisify(deflateRawCallback);
const inflateRaw = promisify(inflateRawCallback);

/** Raw deflate ending in a sync flush and no final block, so that pieces join into one deflate stream. */
const SYNC_FLUSH = { finishFlush: constants.Z_SYNC_FLUSH };

/**
 * How the bodies are compressed. Level 3: on an exposition of 100 000 series
 * (9.8 MB), 2.10% more bytes than zlib's default level 6 (2.40 MB against
 * 2.35 MB) for about two thirds of its CPU time (70 ms against 103 ms, measured
 * with bench/render-cpu.ts's data); levels 1 and 2 are no cheaper on it.
 * Output in 256 KiB pieces: fewer hand-overs from zlib's thread to the event loop.
 */
const DEFLATE = { ...SYNC_FLUSH, level: 3 };
const DEFLATE_BIG = { ...DEFLATE, chunkSize: 256 * 1024 };
const BIG_BODY = 1024 * 1024;

/** One form of the answer: a format, compressed (gzip) or not. */
export type Variant = `${Format}` | `${Format}+gzip`;

export const variantOf = (format: Format, gzip: boolean): Variant => (gzip ? `${format}+gzip` : format);

/**
 * What is made before anything is scraped: the form Prometheus asks for
 * (OpenMetrics, gzip). Any other is made on its first scrape, and then with
 * every refresh while it is scraped (see Scraped).
 */
const FIRST_WANTED: readonly Variant[] = ['openmetrics+gzip'];

/**
 * A form scraped from neither of the last two renderings of an endpoint is
 * not made again with the next (a person's one curl of the text format does
 * not cost a copy of the body, and its compression, at every refresh from
 * then on); a scrape that asks for it again has it made then.
 */
const SCRAPED_RENDERINGS = 2;

/** The forms scraped of an endpoint's renderings, with the generation of the last rendering each was scraped from; shared by the renderings that follow one another. */
class Scraped {
  readonly last = new Map<Variant, number>();

  /** The forms to make for the rendering of generation `generation`. */
  wantedAt(generation: number): Set<Variant> {
    const wanted = new Set(FIRST_WANTED);
    for (const [variant, at] of this.last) if (generation - at <= SCRAPED_RENDERINGS) wanted.add(variant);
    return wanted;
  }
}

/** A piece of one gzip member: raw deflate (sync flush), and the CRC-32 and length of what it inflates to. */
export interface DeflatedPiece {
  data: Buffer;
  crc: number;
  length: number;
}

let lastId = 0;

/**
 * One source's families, rendered once per refresh, in the forms that are
 * scraped, so that a scrape writes buffers rather than serialising. The
 * OpenMetrics form has no `# EOF`: the scrape's own metrics end with it.
 *
 * Each form is held once, and only while it is wanted: a form only ever
 * scraped compressed is kept compressed (its plain bytes are made again from
 * the compressed ones if a plain scrape comes).
 */
export class RenderedChunk {
  /** Tells chunks apart cheaply (the gzip joiner remembers which it checksummed, without holding them). */
  readonly id = ++lastId;
  private readonly bodies: Partial<Record<Format, Buffer>>;
  private readonly pieces: Partial<Record<Format, DeflatedPiece>>;
  private readonly making = new Map<Variant, Promise<void>>();
  /** The forms made for this rendering and kept: those scraped lately, and any scraped from it. */
  readonly wanted: Set<Variant>;
  private readonly scraped: Scraped;
  /** Counts the renderings of the endpoint: 1 for its first. */
  private readonly generation: number;

  constructor(
    /** Samples in the chunk. */
    readonly series: number,
    /** Where each family begins in the OpenMetrics form (the text form has a blank line before each but the first). */
    private readonly familyStarts: readonly number[],
    body: Partial<Record<Format, Buffer>>,
    /** The chunk this one replaces (the same endpoint's last rendering), whose lately scraped forms it makes. */
    previous: RenderedChunk | undefined,
    pieces: Partial<Record<Format, DeflatedPiece>> = {},
  ) {
    this.bodies = body;
    this.pieces = pieces;
    this.scraped = previous?.scraped ?? new Scraped();
    this.generation = (previous?.generation ?? 0) + 1;
    this.wanted = this.scraped.wantedAt(this.generation);
  }

  /** The bytes of a plain form, if made. */
  body(format: Format): Buffer | undefined {
    return this.bodies[format];
  }

  /** The compressed piece of a form, if made. */
  deflated(format: Format): DeflatedPiece | undefined {
    return this.pieces[format];
  }

  /** Whether `variant` can be written now. */
  has(variant: Variant): boolean {
    const [format, gzip] = parse(variant);
    return gzip ? this.pieces[format] !== undefined : this.bodies[format] !== undefined;
  }

  /** Notes that a scrape wants `variant` (so it is kept, and made with the next refreshes); whether it can be written now. */
  want(variant: Variant): boolean {
    this.wanted.add(variant);
    this.scraped.last.set(variant, this.generation);
    return this.has(variant);
  }

  /** Makes `variant` (once, however many scrapes ask at the same time) and keeps it. */
  async make(variant: Variant): Promise<void> {
    this.wanted.add(variant);
    if (this.has(variant)) return;
    let making = this.making.get(variant);
    if (making === undefined) {
      making = this.build(variant).finally(() => {
        this.making.delete(variant);
        this.trim();
      });
      this.making.set(variant, making);
    }
    await making;
  }

  private async build(variant: Variant): Promise<void> {
    const [format, gzip] = parse(variant);
    const body = await this.plain(format);
    if (!gzip) {
      this.bodies[format] = body;
      return;
    }
    const [data, crc] = await Promise.all([deflateRaw(body, body.length > BIG_BODY ? DEFLATE_BIG : DEFLATE), crc32Sliced(body)]);
    this.pieces[format] = { data, crc, length: body.length };
  }

  /** The plain bytes of `format`, from whatever form is at hand. */
  private async plain(format: Format): Promise<Buffer> {
    const other: Format = format === 'text' ? 'openmetrics' : 'text';
    const own = this.bodies[format];
    if (own) return own;
    const derive = (from: Buffer) =>
      format === 'text' ? textFromOpenMetrics(from, this.familyStarts) : openMetricsFromText(from, this.familyStarts);
    const near = this.bodies[other];
    if (near) return derive(near);
    const piece = this.pieces[format];
    if (piece) return inflateRaw(piece.data, SYNC_FLUSH);
    const far = this.pieces[other];
    if (far) return derive(await inflateRaw(far.data, SYNC_FLUSH));
    throw new Error('a rendered chunk holds no form of its data');
  }

  /** Lets go of plain bytes no scrape wants, once a compressed form can give them back. */
  private trim(): void {
    if (this.making.size > 0) return;
    for (const format of ['text', 'openmetrics'] as const) {
      if (this.bodies[format] === undefined || this.wanted.has(format)) continue;
      if (this.pieces.text || this.pieces.openmetrics || this.bodies[format === 'text' ? 'openmetrics' : 'text']) {
        delete this.bodies[format];
      }
    }
  }
}

function parse(variant: Variant): [Format, boolean] {
  return variant.endsWith('+gzip') ? [variant.slice(0, -5) as Format, true] : [variant as Format, false];
}

const EMPTY = Buffer.alloc(0);

/**
 * Renders one source's families in the forms scraped lately (`previous`: the
 * chunk this one replaces, whose scraped forms it carries on), yielding to the
 * event loop as it goes; compression runs on libuv's thread pool.
 */
export async function renderChunk(families: readonly MetricFamily[], previous?: RenderedChunk): Promise<RenderedChunk> {
  if (families.length === 0) {
    const piece = { data: EMPTY, crc: 0, length: 0 };
    return new RenderedChunk(0, [], { text: EMPTY, openmetrics: EMPTY }, previous, { text: piece, openmetrics: piece });
  }
  const { body, familyStarts } = await renderGauges(families);
  const series = families.reduce((n, f) => n + f.samples.length, 0);
  return chunkOfBody(body, familyStarts, series, previous);
}

/** A chunk of a body already rendered in the OpenMetrics form (without `# EOF`), made in the forms scraped lately (see renderChunk). */
export async function chunkOfBody(
  body: Buffer,
  familyStarts: readonly number[],
  series: number,
  previous?: RenderedChunk,
): Promise<RenderedChunk> {
  const chunk = new RenderedChunk(series, familyStarts, { openmetrics: body }, previous);
  // Together: each starts from the bytes just rendered, which are let go (if no scrape wants them plain) once all are made.
  await Promise.all([...chunk.wanted].map((variant) => chunk.make(variant)));
  return chunk;
}
