"""Sphinx extension: live explorers and an offline book.

1. **Explorers.**  A cell that displays a ``usaav.explorers`` widget leaves,
   besides the widget view, a text/html placeholder
   ``<div class="usaav-explorer" data-usaav-explorer='{...}'>`` in the
   notebook.  The book renders that placeholder (``nb_mime_priority_overrides``
   in ``_config.yml`` drops the widget view for html and latex), and on pages
   that have one this extension adds ``_static/usaav-web/loader.js`` as a
   module script: it runs the explorer in the reader's browser, from the
   copy of ``usaav/web`` made at the end of the build.  The widget state that
   notebook execution saves (the ES module of every widget) is dropped from
   the pages: nothing reads it any more.

2. **No CDN.**  MathJax comes from the npm package ``mathjax`` (pinned in
   ``package.json``; ``make book`` runs ``npm ci``) and is copied into
   ``_static/mathjax``; ``mathjax_path`` in ``_config.yml`` points at it.
   Every other script, style sheet and font of the theme is already served
   from ``_static``.  One outside request remains in cell outputs: the
   JavaScript animation player of matplotlib (``Animation.to_jshtml``) links
   Font Awesome 4.4 from maxcdn.bootstrapcdn.com for its button icons.  The
   link is dropped from the page: the theme's own Font Awesome (served from
   ``_static``) draws the same ``fa fa-play``-style icons.  tests/browser
   checks that no page makes a request outside the book.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
WEB_SOURCE = REPO_ROOT / "usaav" / "web"
MATHJAX_SOURCE = REPO_ROOT / "node_modules" / "mathjax" / "es5"
#: What the pages load from MathJax (the component, its fonts) and what it can
#: load on demand (TeX extensions by autoload, the menu's accessibility tools).
MATHJAX_PARTS = ("tex-mml-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions", "ui", "a11y", "sre",
                 "adaptors")
WEB_TARGET = "usaav-web"
MATHJAX_TARGET = "mathjax"
PLACEHOLDER_CLASS = 'class="usaav-explorer"'
#: matplotlib's to_jshtml template (matplotlib/_animation_data.py, JS_INCLUDE).
CDN_FONT_AWESOME = re.compile(
    r'<link\s+rel="stylesheet"\s+href="https://maxcdn\.bootstrapcdn\.com/font-awesome/[^"]*"\s*/?>')


def _check_mathjax(app, config) -> None:
    from sphinx.errors import ConfigError

    if not (MATHJAX_SOURCE / "tex-mml-chtml.js").is_file():
        raise ConfigError(
            "MathJax is served from the book, but node_modules/mathjax is missing: run `npm ci` "
            "in the repository root (make book does it)"
        )


def _drop_widget_state(app, doctree) -> None:
    """Forget the saved ipywidgets state and the html-manager scripts of this page."""
    metadata = getattr(app.env, "nb_metadata", None)
    if not metadata:
        return
    js_files = metadata.get(app.env.docname, {}).get("js_files", {})
    for key in [k for k in js_files if k == "ipywidgets_state" or k.startswith("ipywidgets_")]:
        del js_files[key]


def _add_loader(app, pagename, templatename, context, doctree) -> None:
    if app.builder.format != "html":
        return
    body = context.get("body", "")
    if PLACEHOLDER_CLASS in body:
        app.add_js_file(f"{WEB_TARGET}/loader.js", type="module")
    if CDN_FONT_AWESOME.search(body):
        context["body"] = CDN_FONT_AWESOME.sub("", body)


def _copy_tree(source: Path, target: Path, patterns: tuple[str, ...]) -> None:
    for pattern in patterns:
        for file in sorted(source.glob(pattern)):
            if file.is_file():
                destination = target / file.relative_to(source)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(file, destination)


def _copy_assets(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    web = static / WEB_TARGET
    shutil.rmtree(web, ignore_errors=True)
    _copy_tree(WEB_SOURCE, web, ("*.js", "explorers/*.js"))
    mathjax = static / MATHJAX_TARGET
    for part in MATHJAX_PARTS:
        source = MATHJAX_SOURCE / part
        if source.is_dir():
            shutil.copytree(source, mathjax / part, dirs_exist_ok=True)
        elif source.is_file():
            (mathjax / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, mathjax / part)


def setup(app):
    app.connect("config-inited", _check_mathjax)
    app.connect("doctree-read", _drop_widget_state)
    app.connect("html-page-context", _add_loader)
    app.connect("build-finished", _copy_assets)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
