"""Sphinx extension: live explorers and an offline book.

1. **Explorers.**  A cell that displays a ``usaav.explorers`` widget leaves,
   besides the widget view, a text/html placeholder
   ``<div class="usaav-explorer" data-usaav-explorer='{...}'>`` in the
   notebook.  The book renders that placeholder (``nb_mime_priority_overrides``
   in ``_config.yml`` drops the widget view for html and latex), and on pages
   that have one this extension adds ``_static/usaav-web/usaav-explorers.js``
   as a plain (classic) script: the bundle of ``usaav/web`` that
   :func:`usaav.explorers.classic_bundle` writes at the end of the build.  It
   runs the explorers in the reader's browser, served or opened from disk
   (``file://``, where browsers refuse ES-module imports; a zip of the site,
   ``make site-zip``, works offline).  The widget state that notebook
   execution saves (the ES module of every widget) is dropped from the
   pages: nothing reads it any more.

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

3. **Light pages.**  The theme's 1.49 MB Font Awesome script is dropped
   (its style sheet draws the same icons from woff2 fonts), and the root
   ``index.html`` (a redirect) links the favicon, so no page asks for a
   missing ``/favicon.ico``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
MATHJAX_SOURCE = REPO_ROOT / "node_modules" / "mathjax" / "es5"
#: What the pages load from MathJax (the component, its fonts) and what it can
#: load on demand (TeX extensions by autoload, the menu's accessibility tools).
MATHJAX_PARTS = ("tex-mml-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions", "ui", "a11y", "sre",
                 "adaptors")
WEB_TARGET = "usaav-web"
#: The classic script of the explorers, under _static/WEB_TARGET (an interface: the slides load it too).
EXPLORERS_SCRIPT = "usaav-explorers.js"
MATHJAX_TARGET = "mathjax"
PLACEHOLDER_CLASS = 'class="usaav-explorer"'
#: The theme's Font Awesome as JavaScript (pydata-sphinx-theme, "so that users
#: can add custom icons"): 1.49 MB on every page, which replaces each <i> icon
#: by an inline SVG.  The theme's style sheet already draws the same icons from
#: its woff2 fonts (loaded only when an icon shows), and the book adds none of
#: its own, so the script is dropped from every page and from _static.
FONT_AWESOME_SCRIPT = re.compile(r'[ \t]*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>\n?')
FONT_AWESOME_FILES = ("scripts/fontawesome.js", "scripts/fontawesome.js.map", "scripts/fontawesome.js.LICENSE.txt")
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
        app.add_js_file(f"{WEB_TARGET}/{EXPLORERS_SCRIPT}")
    if CDN_FONT_AWESOME.search(body):
        context["body"] = CDN_FONT_AWESOME.sub("", body)


def _copy_assets(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    from usaav.explorers import classic_bundle

    static = Path(app.outdir) / "_static"
    web = static / WEB_TARGET
    shutil.rmtree(web, ignore_errors=True)
    web.mkdir(parents=True)
    (web / EXPLORERS_SCRIPT).write_text(classic_bundle(), encoding="utf-8")
    _copy_parts(MATHJAX_SOURCE, static / MATHJAX_TARGET, MATHJAX_PARTS)
    _link_favicon_from_redirect(Path(app.outdir), app.config.html_favicon)
    _drop_icon_script(Path(app.outdir))


def _drop_icon_script(outdir: Path) -> None:
    for page in outdir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        lighter = FONT_AWESOME_SCRIPT.sub("", text)
        if lighter != text:
            page.write_text(lighter, encoding="utf-8")
    for name in FONT_AWESOME_FILES:
        (outdir / "_static" / name).unlink(missing_ok=True)


def _copy_parts(source: Path, target: Path, parts: tuple[str, ...]) -> None:
    for part in parts:
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part, dirs_exist_ok=True)
        elif (source / part).is_file():
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / part, target / part)


def _link_favicon_from_redirect(outdir: Path, favicon: str | None) -> None:
    """The root index.html of a Jupyter Book only redirects; without an icon link Chromium asks for /favicon.ico (a 404)."""
    index = outdir / "index.html"
    if not favicon or not index.is_file():
        return
    text = index.read_text(encoding="utf-8")
    if text.lstrip().startswith("<meta http-equiv=\"Refresh\"") and 'rel="icon"' not in text:
        link = f'<link rel="icon" href="_static/{Path(favicon).name}">'
        index.write_text(text.rstrip("\n") + "\n" + link + "\n", encoding="utf-8")


def setup(app):
    app.connect("config-inited", _check_mathjax)
    app.connect("doctree-read", _drop_widget_state)
    app.connect("html-page-context", _add_loader)
    app.connect("build-finished", _copy_assets)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
