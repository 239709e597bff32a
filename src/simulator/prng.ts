/**
 * Deterministic randomness for the simulator.
 *
 * Two tools: a counter-free hash of small integer tuples (so the activity of
 * user U in hour H is a pure function of (seed, U, H) and any time window can
 * be recomputed exactly without replaying history), and a sequential PRNG
 * (mulberry32) for drawing the organisation's fixed entities once at start.
 */

const TWO_POW_32 = 4294967296;

/** MurmurHash3's 32-bit finaliser: spreads every input bit over the output. */
export function fmix32(input: number): number {
  let h = input | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** One MurmurHash3 body round: folds a 32-bit word into the running state. */
function absorb(state: number, word: number): number {
  let k = Math.imul(word | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  let h = state ^ k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

const HASH_SEED = 0x9747b28c;

export function hash2(a: number, b: number): number {
  return fmix32(absorb(absorb(HASH_SEED, a), b) ^ 8);
}

export function hash4(a: number, b: number, c: number, d: number): number {
  return fmix32(absorb(absorb(absorb(absorb(HASH_SEED, a), b), c), d) ^ 16);
}

/** A further independent draw derived from an existing hash (the `k`-th one). */
export function rehash(h: number, k: number): number {
  return fmix32(absorb(h, k) ^ 0x5bd1e995);
}

/** Maps a 32-bit hash to [0, 1). */
export function unit(h: number): number {
  return h / TWO_POW_32;
}

/** A stable 32-bit tag for a string, so hash inputs can name what they draw. */
export function tag(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Sequential PRNG: mulberry32. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / TWO_POW_32;
  };
}

/** A version-4-shaped UUID drawn from `random`. */
export function uuidFrom(random: () => number): string {
  const hex: string[] = [];
  for (let i = 0; i < 32; i++) hex.push(Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = (8 + Math.floor(random() * 4)).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}

/** Picks an index with probability proportional to `weights[i]`. */
export function pickWeighted(weights: readonly number[], draw: number): number {
  let total = 0;
  for (const w of weights) total += w;
  let target = draw * total;
  for (let i = 0; i < weights.length; i++) {
    target -= weights[i] ?? 0;
    if (target < 0) return i;
  }
  return weights.length - 1;
}
