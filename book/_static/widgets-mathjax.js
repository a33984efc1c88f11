/*
 * Let the static ipywidgets (html-manager) coexist with MathJax 3 on a page.
 *
 * Cause (ipywidgets issue #3829): the controls bundled in
 * @jupyter-widgets/html-manager typeset widget labels with the MathJax 2 call
 *     MathJax.Hub.Queue(["Typeset", MathJax.Hub, element])
 * whenever window.MathJax is defined.  Sphinx loads MathJax 3, which has no
 * `Hub`, so the call throws and the widget views fail to render.
 *
 * Fix: every object stored in window.MathJax (Sphinx's configuration object,
 * then the MathJax 3 object that replaces it when tex-chtml.js runs) gets a
 * non-enumerable `Hub.Queue` that forwards the element to MathJax 3's
 * `typesetPromise` once MathJax is ready.  Load this file as a plain script
 * before MathJax (which Sphinx loads with `defer`) and before the widgets
 * render (html-manager waits for the window `load` event).
 */
(function () {
  "use strict";

  function queue(job) {
    var element = Array.isArray(job) ? job[2] : null;
    var mathjax = window.MathJax;
    if (!element || !mathjax || typeof mathjax.typesetPromise !== "function") {
      return;
    }
    var ready = mathjax.startup && mathjax.startup.promise ? mathjax.startup.promise : Promise.resolve();
    ready
      .then(function () { return mathjax.typesetPromise([element]); })
      .catch(function (error) { console.warn("usaav: MathJax could not typeset a widget label", error); });
  }

  function withHub(value) {
    if (value && typeof value === "object" && !value.Hub) {
      try {
        Object.defineProperty(value, "Hub", { value: { Queue: queue }, configurable: true, enumerable: false });
      } catch (error) {
        /* a frozen object: leave it alone */
      }
    }
    return value;
  }

  var current = withHub(window.MathJax);
  try {
    Object.defineProperty(window, "MathJax", {
      configurable: true,
      enumerable: true,
      get: function () { return current; },
      set: function (value) { current = withHub(value); }
    });
  } catch (error) {
    console.warn("usaav: could not install the MathJax shim for widgets", error);
  }
})();
