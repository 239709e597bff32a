import { crc32 } from 'node:zlib';
import { nextTurn } from '../slices.js';

/** Bytes checksummed between two turns of the event loop (well under a millisecond). */
const CRC_SLICE = 1 << 19;

/** The CRC-32 of a large buffer, in slices between which the event loop runs. */
export async function crc32Sliced(data: Buffer, pause: () => Promise<void> = nextTurn): Promise<number> {
  let crc = 0;
  for (let at = 0; at < data.length; at += CRC_SLICE) {
    if (at > 0) await pause();
    crc = crc32(data.subarray(at, at + CRC_SLICE), crc);
  }
  return crc >>> 0;
}

/**
 * The CRC-32 of A followed by B from the CRC-32s of A and B and the length of
 * B (zlib's crc32_combine, which node:zlib does not expose): appending zero
 * bytes to a CRC is a linear map over GF(2); the maps for 1, 2, 4... zero
 * bytes are made once, and B's length picks which to apply. Lets a gzip
 * trailer be made from the checksums of its pieces without reading them again.
 */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  let crc = crcA >>> 0;
  let length = lengthB;
  for (let bit = 0; length > 0; bit++, length = Math.floor(length / 2)) {
    if (length % 2 === 1) crc = times(zeroBytes(bit), crc);
  }
  return (crc ^ crcB) >>> 0;
}

/** The operators appending 2^k zero bytes, made on first use. */
const ZERO_BYTES: Uint32Array[] = [];

function zeroBytes(k: number): Uint32Array {
  for (let i = ZERO_BYTES.length; i <= k; i++) {
    if (i === 0) {
      // One zero bit: the reflected CRC-32 polynomial, then shifts; squared three times, one zero byte.
      let op: Uint32Array = new Uint32Array(32);
      op[0] = 0xedb88320;
      for (let n = 1; n < 32; n++) op[n] = 2 ** (n - 1);
      for (let s = 0; s < 3; s++) op = square(op);
      ZERO_BYTES.push(op);
    } else ZERO_BYTES.push(square(ZERO_BYTES[i - 1] as Uint32Array));
  }
  return ZERO_BYTES[k] as Uint32Array;
}

function times(matrix: Uint32Array, vector: number): number {
  let sum = 0;
  let v = vector >>> 0;
  for (let i = 0; v !== 0; i++, v >>>= 1) if (v & 1) sum ^= matrix[i] as number;
  return sum >>> 0;
}

function square(matrix: Uint32Array): Uint32Array {
  const out = new Uint32Array(32);
  for (let n = 0; n < 32; n++) out[n] = times(matrix, matrix[n] as number);
  return out;
}
