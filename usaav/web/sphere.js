// Geometry of the unit sphere S^{d-1} ⊂ R^d (MODEL.md §1), the browser twin
// of usaav/sphere.py.
//
// A configuration is a Float64Array of length n*d, row-major (row i =
// particle i), like a C-contiguous NumPy (n, d) array. Every function here is
// pure or writes into an `out` array given as its last argument.

/**
 * Radially project every row onto the sphere, x ↦ x/|x| (MODEL.md §5), in place.
 *
 * Each row is first divided by its largest absolute entry, as in
 * usaav.sphere.normalize, so |x|² cannot overflow even after the huge
 * raw-clock steps of large β (MODEL.md §3).
 *
 * @param {Float64Array} X  n*d coordinates, overwritten
 * @param {number} n
 * @param {number} d
 * @returns {Float64Array} X
 */
export function normalizeRows(X, n, d) {
  for (let i = 0, row = 0; i < n; i++, row += d) {
    let largest = 0;
    for (let c = 0; c < d; c++) largest = Math.max(largest, Math.abs(X[row + c]));
    let squares = 0;
    for (let c = 0; c < d; c++) {
      X[row + c] /= largest;
      squares += X[row + c] * X[row + c];
    }
    const norm = Math.sqrt(squares);
    for (let c = 0; c < d; c++) X[row + c] /= norm;
  }
  return X;
}

/**
 * Project V onto the tangent spaces at X: out_i = V_i − ⟨X_i, V_i⟩ X_i
 * (P_x = I − x xᵀ, MODEL.md §1). `out` may be V itself.
 *
 * @param {Float64Array} X  n*d unit rows
 * @param {Float64Array} V  n*d vectors
 * @param {number} n
 * @param {number} d
 * @param {Float64Array} [out]  n*d result (allocated when omitted)
 * @returns {Float64Array} out
 */
export function projectTangent(X, V, n, d, out = new Float64Array(n * d)) {
  for (let i = 0, row = 0; i < n; i++, row += d) {
    let inner = 0;
    for (let c = 0; c < d; c++) inner += X[row + c] * V[row + c];
    for (let c = 0; c < d; c++) out[row + c] = V[row + c] - inner * X[row + c];
  }
  return out;
}

/**
 * Rotate row i of X by angles[i] in the coordinate plane (p, q) (MODEL.md §1):
 * R e_p = cos φ e_p + sin φ e_q, R e_q = −sin φ e_p + cos φ e_q, identity on
 * the other axes. `out` may be X itself.
 *
 * @param {Float64Array} X  n*d
 * @param {ArrayLike<number>} angles  n angles (radians)
 * @param {number[]} plane  [p, q], distinct axes below d
 * @param {number} n
 * @param {number} d
 * @param {Float64Array} [out]
 * @returns {Float64Array} out
 */
export function rotateInPlane(X, angles, plane, n, d, out = new Float64Array(n * d)) {
  const [p, q] = plane;
  for (let i = 0, row = 0; i < n; i++, row += d) {
    const cos = Math.cos(angles[i]);
    const sin = Math.sin(angles[i]);
    const xp = X[row + p];
    const xq = X[row + q];
    if (out !== X) for (let c = 0; c < d; c++) out[row + c] = X[row + c];
    out[row + p] = cos * xp - sin * xq;
    out[row + q] = sin * xp + cos * xq;
  }
  return out;
}

/**
 * The d×d rotation R_φ in the plane (p, q) (MODEL.md §1), row-major.
 *
 * @param {number} angle  φ in radians
 * @param {number} d
 * @param {number[]} [plane=[0, 1]]
 * @returns {Float64Array} d*d matrix, entry (r, c) at r*d + c
 */
export function rotationMatrix(angle, d, plane = [0, 1]) {
  const [p, q] = plane;
  const R = new Float64Array(d * d);
  for (let c = 0; c < d; c++) R[c * d + c] = 1;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  R[p * d + p] = cos;
  R[q * d + q] = cos;
  R[q * d + p] = sin;
  R[p * d + q] = -sin;
  return R;
}

/**
 * n independent points uniform on S^{d-1}: normalised standard Gaussian
 * vectors (the Gaussian law is rotation invariant), as usaav.uniform_sphere.
 *
 * @param {number} n
 * @param {number} d  at least 2
 * @param {{normal: () => number}} rng  e.g. makeRng(seed) from random.js
 * @returns {Float64Array} n*d unit rows
 */
export function uniformSphere(n, d, rng) {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be an integer >= 1, got ${n}`);
  if (!Number.isInteger(d) || d < 2) throw new RangeError(`d must be an integer >= 2, got ${d}`);
  if (!rng || typeof rng.normal !== "function") {
    throw new TypeError("rng must be a generator with a normal() method (makeRng(seed) in random.js)");
  }
  const X = new Float64Array(n * d);
  for (let k = 0; k < X.length; k++) X[k] = rng.normal();
  return normalizeRows(X, n, d);
}

/**
 * Largest deviation from the sphere, max_i | |x_i| − 1 | (MODEL.md §5).
 *
 * @param {Float64Array} X
 * @param {number} n
 * @param {number} d
 * @returns {number}
 */
export function sphereDrift(X, n, d) {
  let worst = 0;
  for (let i = 0, row = 0; i < n; i++, row += d) {
    let squares = 0;
    for (let c = 0; c < d; c++) squares += X[row + c] * X[row + c];
    worst = Math.max(worst, Math.abs(Math.sqrt(squares) - 1));
  }
  return worst;
}
