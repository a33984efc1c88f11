// Seeded randomness for the browser twin: a small deterministic generator,
// Gaussian variates and Haar-random rotations. Nothing here touches
// Math.random: the same seed gives the same numbers in every browser and in
// node, so an explorer's initial state is reproducible from its seed.
//
// Algorithm (documented so that it can be re-implemented elsewhere):
// * generator: xoshiro128** (Blackman & Vigna, 2018), 128 bits of state in
//   four 32-bit words, period 2^128 − 1, 32-bit outputs;
// * seeding: an integer seed 0 ≤ seed ≤ 2^53 − 1 is split into its low and
//   high 32-bit words; state word k (k = 0..3) is
//   mixSeedWord(mixSeedWord(low + (k + 1)·0x9e3779b9) ^ high), where
//   mixSeedWord is the 32-bit finaliser x ^= x >>> 16; x *= 0x21f0aaad;
//   x ^= x >>> 15; x *= 0x735a2d97; x ^= x >>> 15 (products mod 2^32);
// * uniform(): 53 random bits, (a·2^26 + b)/2^53 with a, b the top 27 and
//   26 bits of two outputs: a double uniform on [0, 1);
// * normal(): Marsaglia's polar method (two standard normals per accepted
//   pair; the second is kept for the next call).

const GOLDEN_GAMMA_32 = 0x9e3779b9;
const TWO_POW_26 = 67108864;
const TWO_POW_53 = 9007199254740992;

function mixSeedWord(word) {
  let x = word >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

function rotateLeft32(x, k) {
  return (x << k) | (x >>> (32 - k));
}

/**
 * The xoshiro128** generator (Blackman & Vigna, 2018) on a 4-word state.
 *
 * @param {ArrayLike<number>} state  four 32-bit words, not all zero (copied)
 * @returns {() => number} next(): the next 32-bit output, an integer in [0, 2^32)
 */
export function xoshiro128StarStar(state) {
  const s = Uint32Array.from(state);
  if (s.length !== 4) throw new RangeError(`state must hold four 32-bit words, got ${s.length}`);
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1; // the all-zero state is a fixed point
  return function next() {
    const result = Math.imul(rotateLeft32(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotateLeft32(s[3], 11);
    return result;
  };
}

/**
 * A deterministic generator (module header: xoshiro128**, Marsaglia polar).
 *
 * @param {number} seed  integer, 0 ≤ seed ≤ Number.MAX_SAFE_INTEGER
 * @returns {{uniform: () => number, normal: () => number, int: (k: number) => number,
 *            nextUint32: () => number}}
 *   uniform() in [0, 1); normal() standard Gaussian; int(k) uniform in {0, ..., k−1}
 */
export function makeRng(seed) {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`seed must be an integer between 0 and 2^53 - 1, got ${seed}`);
  }
  const low = seed % 4294967296;
  const high = Math.floor(seed / 4294967296);
  const s = new Uint32Array(4);
  for (let k = 0; k < 4; k++) {
    s[k] = mixSeedWord(mixSeedWord(low + (k + 1) * GOLDEN_GAMMA_32) ^ high);
  }
  const nextUint32 = xoshiro128StarStar(s);

  function uniform() {
    const a = nextUint32() >>> 5;
    const b = nextUint32() >>> 6;
    return (a * TWO_POW_26 + b) / TWO_POW_53;
  }

  let spareNormal = null;
  function normal() {
    if (spareNormal !== null) {
      const value = spareNormal;
      spareNormal = null;
      return value;
    }
    let u;
    let v;
    let radius2;
    do {
      u = 2 * uniform() - 1;
      v = 2 * uniform() - 1;
      radius2 = u * u + v * v;
    } while (radius2 >= 1 || radius2 === 0);
    const factor = Math.sqrt((-2 * Math.log(radius2)) / radius2);
    spareNormal = v * factor;
    return u * factor;
  }

  function int(k) {
    if (!Number.isInteger(k) || k < 1 || k > 4294967296) {
      throw new RangeError(`k must be an integer between 1 and 2^32, got ${k}`);
    }
    // floor(k·U) with 53-bit U: the bias is below k/2^53, far under any
    // statistical test an explorer could run.
    return Math.floor(uniform() * k);
  }

  return { uniform, normal, int, nextUint32 };
}

/**
 * m independent Haar-random rotations of R^d (uniform on SO(d)).
 *
 * QR of a d×d standard Gaussian matrix A with the diagonal of R made
 * positive (Gram–Schmidt gives that sign correction directly) is Haar on
 * O(d) (Mezzadri, "How to generate random matrices from the classical
 * compact groups", 2007). When det Q = −1 the first column is negated: a
 * right translation by the fixed reflection diag(−1, 1, …, 1), which maps
 * the Haar law on the det = −1 coset onto the Haar law on SO(d).
 * Gram–Schmidt is run twice per column ("twice is enough") so QᵀQ = I to
 * rounding.
 *
 * @param {number} m  number of matrices
 * @param {number} d  dimension, at least 2
 * @param {{normal: () => number}} rng
 * @returns {Float64Array} m*d*d; matrix k is row-major at offset k*d*d
 */
export function haarRotations(m, d, rng) {
  if (!Number.isInteger(m) || m < 0) throw new RangeError(`m must be an integer >= 0, got ${m}`);
  if (!Number.isInteger(d) || d < 2) throw new RangeError(`d must be an integer >= 2, got ${d}`);
  if (!rng || typeof rng.normal !== "function") {
    throw new TypeError("rng must be a generator with a normal() method (makeRng(seed))");
  }
  const out = new Float64Array(m * d * d);
  const column = new Float64Array(d);
  for (let k = 0; k < m; k++) {
    const Q = out.subarray(k * d * d, (k + 1) * d * d);
    for (let e = 0; e < d * d; e++) Q[e] = rng.normal();
    for (let c = 0; c < d; c++) {
      for (let r = 0; r < d; r++) column[r] = Q[r * d + c];
      for (let pass = 0; pass < 2; pass++) {
        for (let p = 0; p < c; p++) {
          let inner = 0;
          for (let r = 0; r < d; r++) inner += Q[r * d + p] * column[r];
          for (let r = 0; r < d; r++) column[r] -= inner * Q[r * d + p];
        }
      }
      let norm = 0;
      for (let r = 0; r < d; r++) norm += column[r] * column[r];
      norm = Math.sqrt(norm);
      for (let r = 0; r < d; r++) Q[r * d + c] = column[r] / norm;
    }
    if (determinantSign(Q, d) < 0) {
      for (let r = 0; r < d; r++) Q[r * d] = -Q[r * d];
    }
  }
  return out;
}

/** Sign of det M for a d×d row-major M, by Gaussian elimination with partial pivoting. */
function determinantSign(M, d) {
  const A = Float64Array.from(M);
  let sign = 1;
  for (let c = 0; c < d; c++) {
    let pivot = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(A[r * d + c]) > Math.abs(A[pivot * d + c])) pivot = r;
    if (A[pivot * d + c] === 0) return 0;
    if (pivot !== c) {
      sign = -sign;
      for (let e = 0; e < d; e++) {
        const swap = A[c * d + e];
        A[c * d + e] = A[pivot * d + e];
        A[pivot * d + e] = swap;
      }
    }
    if (A[c * d + c] < 0) sign = -sign;
    for (let r = c + 1; r < d; r++) {
      const factor = A[r * d + c] / A[c * d + c];
      for (let e = c; e < d; e++) A[r * d + e] -= factor * A[c * d + e];
    }
  }
  return sign;
}
