// Sharp canvases at any size and pixel density: the one place that sizes a
// canvas's backing store (spheres, charts and panels all go through it).
//
// A canvas is laid out in CSS pixels by the page (width: 100%); its bitmap
// must hold devicePixelRatio times as many pixels, or lines blur on a
// high-density screen and after a browser zoom.  Drawing code then works in
// bitmap pixels and multiplies every length by `scale` (bitmap pixels per CSS
// pixel), so a line is as thick on a phone as on a desktop.

/** Bitmap pixels per CSS pixel, at most 3 (beyond that the extra pixels cost time and show nothing). */
export function pixelRatio() {
  const ratio = (typeof window !== "undefined" && window.devicePixelRatio) || 1;
  return Math.min(3, Math.max(1, ratio));
}

/**
 * Give `canvas` a bitmap of (width × height) CSS pixels at the current pixel
 * ratio, and its CSS height; the bitmap is only reallocated (which clears it)
 * when the size or the ratio changed.
 *
 * @returns {{scale: number, changed: boolean}}  scale: bitmap pixels per CSS pixel
 */
export function fitCanvas(canvas, width, height) {
  const ratio = pixelRatio();
  const bitmapWidth = Math.round(width * ratio), bitmapHeight = Math.round(height * ratio);
  const changed = canvas.width !== bitmapWidth || canvas.height !== bitmapHeight;
  if (changed) {
    canvas.width = bitmapWidth;
    canvas.height = bitmapHeight;
  }
  const cssHeight = `${height}px`;
  if (canvas.style.height !== cssHeight) canvas.style.height = cssHeight;
  return { scale: bitmapWidth / width, changed };
}

/** The CSS width the page gives `canvas` (at least `minimum`), or `fallback` before layout. */
export function layoutWidth(canvas, minimum, fallback) {
  const rect = canvas.getBoundingClientRect();
  return Math.max(minimum, Math.round(rect.width || canvas.clientWidth || fallback));
}

/** The page's text colour at `canvas` (light or dark theme); read on resize, not per frame. */
export function canvasInk(canvas) {
  return (typeof getComputedStyle === "function" && getComputedStyle(canvas).color) || "#222";
}

/**
 * Call `onChange` whenever the pixel ratio changes (browser zoom, a window
 * moved to another screen): a ResizeObserver does not see that.  A zoom
 * fires the window's resize event, a move to another screen the change event
 * of a `(resolution: …dppx)` media query; both are watched.  The window's
 * listener holds the query, so the query lives as long as the page.
 *
 * @returns {() => void}  stops listening
 */
export function watchPixelRatio(onChange) {
  if (typeof window === "undefined" || typeof window.addEventListener !== "function") return () => {};
  let ratio = pixelRatio();
  let query = null;
  const watchQuery = () => {
    query?.removeEventListener("change", check);
    query = typeof matchMedia === "function" ? matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`) : null;
    query?.addEventListener("change", check);
  };
  function check() {
    const now = pixelRatio();
    if (now === ratio) return;
    ratio = now;
    watchQuery(); // the old query matched the old ratio
    onChange();
  }
  watchQuery();
  window.addEventListener("resize", check);
  return () => {
    window.removeEventListener("resize", check);
    query?.removeEventListener("change", check);
  };
}
