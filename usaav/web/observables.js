// Collapse observables of one configuration (MODEL.md §6): the browser twin
// of usaav/observables.py. Each takes one configuration X (n*d, row-major)
// and returns a number.

/**
 * Collapse gap Γ(X) = (1/2n²) Σ_{i,j} |x_i − x_j|² = 1 − |x̄|² (MODEL.md §6),
 * computed as (1/n) Σ_i |x_i − x̄|² (equal for unit rows; no cancellation near collapse).
 *
 * @param {Float64Array} X
 * @param {number} n
 * @param {number} d
 * @returns {number} 0 iff all points coincide
 */
export function collapseGap(X, n, d) {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) mean[c] += X[i * d + c];
  for (let c = 0; c < d; c++) mean[c] /= n;
  let total = 0;
  for (let i = 0; i < n; i++) {
    let squares = 0;
    for (let c = 0; c < d; c++) squares += (X[i * d + c] - mean[c]) ** 2;
    total += squares;
  }
  return total / n;
}

/**
 * Collapse gap in the gauge frame, Γ({G(a_i) x_i}) (MODEL.md §6); the plain
 * collapse gap for kernels without a gauge.
 *
 * @param {object} interaction  from bindKernel
 * @param {Float64Array} X
 * @returns {number}
 */
export function gaugeGap(interaction, X) {
  const { n, d } = interaction;
  return collapseGap(interaction.gaugeFrame(X, new Float64Array(n * d)), n, d);
}

/**
 * Relative energy gap (E_max − E_n)/E_max (MODEL.md §6), from the pair sums,
 * so it is accurate for any β. E_max is e^β/(2β) for the baseline and the
 * gauge kernels (MODEL.md §4), the energy of a constant configuration for
 * nonnegative separated and distance-bias weights (Prop. 11), ½ max ĉ for
 * Toeplitz (Prop. 10).
 *
 * @param {object} interaction
 * @param {Float64Array} X
 * @returns {number}
 * @throws {RangeError} when the kernel has no known positive maximum
 *   (a separated weight that changes sign, a Toeplitz profile with ĉ ≤ 0)
 */
export function relativeEnergyGap(interaction, X) {
  const maximum = interaction.pairSumMax();
  if (maximum === null || !(maximum > 0)) {
    throw new RangeError(`relativeEnergyGap needs a kernel with a known positive maximum energy; "${interaction.type}" here has none`);
  }
  return 1 - interaction.pairSum(X) / maximum;
}

/**
 * Largest within-label diameter, max_a max_{i,j: a_i = a_j = a} |x_i − x_j|
 * (MODEL.md §6); 0 iff the configuration is Dirac in x at each label (Thm. 3).
 * Labels are grouped by exact equality; a label that occurs once contributes 0.
 *
 * @param {Float64Array} X
 * @param {ArrayLike<number>} aux  n labels
 * @param {number} n
 * @param {number} d
 * @returns {number}
 */
export function conditionalDiameter(X, aux, n, d) {
  if (aux === null || aux === undefined || aux.length !== n) {
    throw new RangeError(`aux must hold n = ${n} labels, got ${aux?.length ?? aux}`);
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => aux[i] - aux[j] || i - j);
  let largest = 0;
  for (let start = 0; start < n;) {
    let stop = start + 1;
    while (stop < n && aux[order[stop]] === aux[order[start]]) stop++;
    for (let p = start; p < stop; p++) {
      for (let q = p + 1; q < stop; q++) {
        largest = Math.max(largest, rowDistance(X, order[p], order[q], d));
      }
    }
    start = stop;
  }
  return largest;
}

function rowDistance(X, i, j, d) {
  let squares = 0;
  for (let c = 0; c < d; c++) squares += (X[i * d + c] - X[j * d + c]) ** 2;
  return Math.sqrt(squares);
}

/**
 * Number of clusters: connected components of the graph joining points at
 * chordal distance ≤ threshold, i.e. single-linkage clustering cut at
 * `threshold` (as usaav.count_clusters). Counts the atoms of a numerically
 * discrete law, e.g. the clusters of Cor. 2.
 *
 * @param {Float64Array} X
 * @param {number} n
 * @param {number} d
 * @param {number} [threshold=1e-3]
 * @returns {number}
 */
export function countClusters(X, n, d, threshold = 1e-3) {
  if (typeof threshold !== "number" || !(threshold >= 0)) {
    throw new RangeError(`threshold must be a number >= 0, got ${threshold}`);
  }
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const root = (i) => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  let clusters = n;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (rowDistance(X, i, j, d) <= threshold) {
        const a = root(i);
        const b = root(j);
        if (a !== b) {
          parent[a] = b;
          clusters--;
        }
      }
    }
  }
  return clusters;
}

/**
 * How many times the closed curve s ↦ x(s) winds around its mean (as
 * usaav.winding_number): points ordered by `positions` (stable), centred,
 * projected on the plane of the two largest principal directions, wrapped
 * angle increments summed (closing the loop) and divided by 2π. A great
 * circle run m times gives ±m (Prop. 10), a constant path 0. The sign
 * follows the orientation of the principal plane: here each principal
 * direction has its largest entry positive (the library follows its SVD).
 *
 * @param {Float64Array} X
 * @param {?ArrayLike<number>} positions  n labels, or null for the row order
 * @param {number} n
 * @param {number} d
 * @returns {number}
 */
export function windingNumber(X, positions, n, d) {
  const order = Array.from({ length: n }, (_, i) => i);
  if (positions !== null && positions !== undefined) {
    if (positions.length !== n) throw new RangeError(`positions must hold n = ${n} labels, got ${positions.length}`);
    order.sort((i, j) => positions[i] - positions[j] || i - j);
  }
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) mean[c] += X[i * d + c] / n;
  const centred = new Float64Array(n * d);
  order.forEach((i, k) => {
    for (let c = 0; c < d; c++) centred[k * d + c] = X[i * d + c] - mean[c];
  });
  const scatter = new Float64Array(d * d);
  for (let k = 0; k < n; k++) {
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) scatter[a * d + b] += centred[k * d + a] * centred[k * d + b];
    }
  }
  const { values, vectors } = symmetricEigen(scatter, d);
  const ranked = Array.from({ length: d }, (_, c) => c).sort((a, b) => values[b] - values[a]);
  const basis = ranked.slice(0, 2).map((column) => {
    const v = Array.from({ length: d }, (_, r) => vectors[r * d + column]);
    const largest = v.reduce((best, x) => (Math.abs(x) > Math.abs(best) ? x : best), 0);
    return largest < 0 ? v.map((x) => -x) : v;
  });
  const angles = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let p = 0;
    let q = 0;
    for (let c = 0; c < d; c++) {
      p += centred[k * d + c] * basis[0][c];
      q += centred[k * d + c] * basis[1][c];
    }
    angles[k] = Math.atan2(q, p);
  }
  const turn = 2 * Math.PI;
  let total = 0;
  for (let k = 0; k < n; k++) {
    const step = angles[(k + 1) % n] - angles[k] + Math.PI;
    total += step - turn * Math.floor(step / turn) - Math.PI;
  }
  return total / turn;
}

/**
 * Eigen-decomposition of a symmetric d×d matrix by cyclic Jacobi rotations.
 *
 * @param {Float64Array} matrix  row-major, symmetric (not modified)
 * @param {number} d
 * @returns {{values: Float64Array, vectors: Float64Array}} vectors column c ↔ values[c]
 */
export function symmetricEigen(matrix, d) {
  const A = Float64Array.from(matrix);
  const V = new Float64Array(d * d);
  for (let c = 0; c < d; c++) V[c * d + c] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let scale = 0;
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) {
        if (a !== b) off += A[a * d + b] ** 2;
        scale += A[a * d + b] ** 2;
      }
    }
    if (off <= 1e-30 * scale || off === 0) break;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = A[p * d + q];
        if (apq === 0) continue;
        // The rotation that zeroes A[p][q] (Golub & Van Loan, §8.5.2).
        const tau = (A[q * d + q] - A[p * d + p]) / (2 * apq);
        const t = Math.sign(tau || 1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const cos = 1 / Math.sqrt(1 + t * t);
        const sin = t * cos;
        for (let k = 0; k < d; k++) {
          const akp = A[k * d + p];
          const akq = A[k * d + q];
          A[k * d + p] = cos * akp - sin * akq;
          A[k * d + q] = sin * akp + cos * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = A[p * d + k];
          const aqk = A[q * d + k];
          A[p * d + k] = cos * apk - sin * aqk;
          A[q * d + k] = sin * apk + cos * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = V[k * d + p];
          const vkq = V[k * d + q];
          V[k * d + p] = cos * vkp - sin * vkq;
          V[k * d + q] = sin * vkp + cos * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: d }, (_, c) => A[c * d + c]), vectors: V };
}

/**
 * Euler–Lagrange residual max_i |P_{x_i} v_i| in the rescaled clock (paper
 * Prop. 8): vanishes at every maximiser of the energy; as
 * usaav.euler_lagrange_residual, relative to the largest possible force.
 *
 * @param {object} interaction
 * @param {Float64Array} X
 * @returns {number}
 */
export function eulerLagrangeResidual(interaction, X) {
  const { n, d } = interaction;
  const drift = interaction.drift(X, new Float64Array(n * d));
  let largest = 0;
  for (let i = 0, row = 0; i < n; i++, row += d) {
    let inner = 0;
    for (let c = 0; c < d; c++) inner += X[row + c] * drift[row + c];
    let squares = 0;
    for (let c = 0; c < d; c++) squares += (drift[row + c] - inner * X[row + c]) ** 2;
    largest = Math.max(largest, Math.sqrt(squares));
  }
  return largest;
}
