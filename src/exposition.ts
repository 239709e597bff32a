import { promisify } from 'node:util';
import { crc32, deflateRaw as deflateRawCallback } from 'node:zlib';
import { type RenderedChunk, renderChunk } from './render/chunk.js';
import { crc32Combine } from './render/crc32.js';
import type { Format } from './render/lines.js';
import type { MetricFamily } from './sources/types.js';

export { type RenderedChunk, renderChunk, type Variant, variantOf } from './render/chunk.js';
export { type Format, joinFamilies, renderFamily, type TypedFamily } from './render/lines.js';

const deflateRaw = promisify(deflateRawCallback);

export const CONTENT_TYPES: Record<Format, string> = {
  text: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

/** gzip's fixed header: deflate, no name or time, unknown OS (RFC 1952). */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff]);

interface JoinMemo {
  /** The chunks (by id: the memo never holds a chunk, so a refresh frees the one it replaces). */
  ids: string;
  crc: number;
  length: number;
  tail: Buffer | undefined;
  /** The tail's final deflate block and the gzip trailer, while the tail stays the same. */
  end: [Buffer, Buffer] | undefined;
}

/**
 * Joins chunks and a tail (the scrape's own metrics) into one gzip member:
 * the chunks' deflated pieces end in a sync flush, the tail's in the final
 * block. (Concatenated gzip members are valid gzip, but curl --compressed and
 * other single-member decoders stop after the first one and would silently
 * show a fraction of the series.) The trailer's CRC is combined from the
 * pieces' own, so a scrape never reads the chunks' bytes; the tail's
 * compressed form is kept while the tail stays the same.
 */
export class GzipJoiner {
  private readonly memo: Record<Format, JoinMemo> = {
    text: { ids: '', crc: 0, length: 0, tail: undefined, end: undefined },
    openmetrics: { ids: '', crc: 0, length: 0, tail: undefined, end: undefined },
  };

  /** The gzip member as the buffers to write in turn: the chunks' own deflated buffers, shared, not copied. Every chunk's gzip form must be made. */
  async join(chunks: readonly RenderedChunk[], tail: Buffer, format: Format): Promise<Buffer[]> {
    const pieces = chunks.map((c) => {
      const piece = c.deflated(format);
      if (piece === undefined) throw new Error('GzipJoiner.join: a chunk has no gzip form yet (make it first)');
      return piece;
    });
    const memo = this.memo[format];
    const ids = chunks.map((c) => c.id).join(',');
    if (memo.ids !== ids) {
      let crc = 0;
      let length = 0;
      for (const p of pieces) {
        crc = crc32Combine(crc, p.crc, p.length);
        length += p.length;
      }
      Object.assign(memo, { ids, crc, length, tail: undefined, end: undefined });
    }
    if (memo.end === undefined || memo.tail === undefined || !memo.tail.equals(tail)) {
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(crc32Combine(memo.crc, crc32(tail), tail.length), 0);
      trailer.writeUInt32LE((memo.length + tail.length) % 2 ** 32, 4);
      const end: [Buffer, Buffer] = [await deflateRaw(tail), trailer];
      // Another scrape may have joined other chunks meanwhile: remember this tail only for the chunks it was made for.
      if (memo.ids === ids) Object.assign(memo, { tail, end });
      return [GZIP_HEADER, ...pieces.map((p) => p.data), ...end];
    }
    return [GZIP_HEADER, ...pieces.map((p) => p.data), ...memo.end];
  }
}

/** Renders families into one body, as a whole answer would hold them (tests, the bench). */
export async function renderFamilies(families: readonly MetricFamily[], format: Format): Promise<string> {
  const chunk = await renderChunk(families);
  await chunk.make(format);
  const body = (chunk.body(format) as Buffer).toString();
  return format === 'openmetrics' ? `${body}# EOF\n` : body;
}
