r"""Bundling ``usaav/web`` without a build tool: one ES module, or one classic script.

The modules of ``usaav/web`` follow three rules (``usaav/web/README.md``)
that make bundling a matter of text: they import only named bindings of
sibling modules (``import { a, b } from "./x.js"``), they export only
declarations (``export function|const|let|class``), and top-level names are
unique across all of them.  So a bundle is the modules in dependency order
with their imports removed and the word ``export`` dropped; the entry's
``export default`` is kept.

* :func:`bundle` (entry ``widget.js``) is the ES module of the anywidget
  widget, run by JupyterLab, Notebook 7, VS Code and Colab.
* :func:`classic_bundle` (entry ``loader.js``) is a classic script, wrapped
  in a function so that its names stay private: browsers refuse ES-module
  imports on ``file://`` pages, and a classic script runs there.  The book
  serves it as ``_static/usaav-web/usaav-explorers.js``; on load it mounts
  every ``.usaav-explorer[data-usaav-explorer]`` placeholder of the page and
  defines ``window.usaavExplorers = {mountPlaceholders(root), names()}``.

The ES modules stay the source of truth: both bundles are made from them,
deterministically, and the tests run both in node.
"""

from __future__ import annotations

import posixpath
import re
from functools import lru_cache
from pathlib import Path

__all__ = ["CLASSIC_ENTRY", "WEB_DIR", "WIDGET_ENTRY", "bundle", "classic_bundle", "module_order"]

#: The browser twin and the explorers (shipped as package data).
WEB_DIR = Path(__file__).resolve().parents[1] / "web"
#: Entry of the widget's ES module (its default export is anywidget's ``render``).
WIDGET_ENTRY = "widget.js"
#: Entry of the static pages' classic script (mounts the placeholders).
CLASSIC_ENTRY = "loader.js"

_IMPORT = re.compile(r'^import\s+(\{[^}]*\}|[A-Za-z_$][\w$]*)\s+from\s+"([^"]+)"\s*;?[ \t]*\n?', re.M)
_EXPORT_DECLARATION = re.compile(r"^export\s+(?=(?:async\s+)?function\b|const\b|let\b|class\b)", re.M)
_EXPORT_DEFAULT = re.compile(r"^export\s+default\b", re.M)
_ANY_EXPORT = re.compile(r"^export\b.*$", re.M)
_TOP_LEVEL_NAME = re.compile(r"^(?:export\s+)?(?:async\s+)?(?:function\*?|class|const|let|var)\s+([A-Za-z_$][\w$]*)", re.M)


def _module_imports(text: str, path: str) -> list[str]:
    """Sibling modules imported by ``path`` (relative to WEB_DIR), in order of appearance."""
    found = []
    for match in _IMPORT.finditer(text):
        binding, target = match.groups()
        if not target.startswith("./") and not target.startswith("../"):
            raise ValueError(f"{path}: only relative imports of sibling modules can be bundled, got {target!r}")
        if not binding.startswith("{"):
            raise ValueError(f"{path}: default imports cannot be bundled (import named bindings), got {match.group(0).strip()!r}")
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
        if resolved.startswith(".."):
            raise ValueError(f"{path}: import {target!r} leaves usaav/web")
        found.append(resolved)
    return found


def _strip_module(text: str, path: str, entry: bool) -> str:
    text = _IMPORT.sub("", text)
    text = _EXPORT_DECLARATION.sub("", text)
    if not entry and _EXPORT_DEFAULT.search(text):
        raise ValueError(f"{path}: only the entry module may have `export default`")
    leftover = [line for line in _ANY_EXPORT.findall(text) if not (entry and _EXPORT_DEFAULT.match(line))]
    if leftover:
        raise ValueError(f"{path}: export forms other than declarations cannot be bundled: {leftover[0]!r}")
    return text


def module_order(entry: str = WIDGET_ENTRY, root: Path = WEB_DIR) -> list[str]:
    """Modules reachable from ``entry``, each after the modules it imports (depth first, deterministic)."""
    order, visiting, done = [], set(), set()

    def visit(path: str, chain: tuple[str, ...]) -> None:
        if path in done:
            return
        if path in visiting:
            raise ValueError(f"import cycle: {' -> '.join(chain + (path,))}")
        file = root / path
        if not file.is_file():
            raise ValueError(f"{chain[-1] if chain else 'entry'}: imports {path!r}, which does not exist")
        visiting.add(path)
        for dependency in _module_imports(file.read_text(encoding="utf-8"), path):
            visit(dependency, chain + (path,))
        visiting.discard(path)
        done.add(path)
        order.append(path)

    visit(entry, ())
    return order


def bundle(entry: str = WIDGET_ENTRY, root: Path | str = WEB_DIR) -> str:
    """One ES module made of ``entry`` and every module it imports (see the rules above).

    Deterministic: the same files give the same text.  Raises ``ValueError``
    naming the module when a rule is broken (a non-relative or default import,
    an ``export { ... }`` list, two modules declaring the same top-level name).

    Examples
    --------
    >>> text = bundle()
    >>> len(re.findall("^export default", text, re.M)), "import {" in text
    (1, False)
    """
    return _bundle(str(entry), str(Path(root).resolve()))


def classic_bundle(root: Path | str = WEB_DIR) -> str:
    """One classic script (no ``import``/``export``) that mounts the explorers of a static page.

    The modules of ``loader.js`` and its imports, bundled as by :func:`bundle`
    and wrapped in a strict-mode function, so that a page may load it with a
    plain ``<script src=...>``: it runs on ``file://`` pages, where browsers
    refuse ES-module imports.  On load it mounts every
    ``.usaav-explorer[data-usaav-explorer]`` placeholder of the document and
    defines ``window.usaavExplorers`` with ``mountPlaceholders(root)`` (for
    placeholders added later, e.g. by a slide deck) and ``names()``.

    Examples
    --------
    >>> text = classic_bundle()
    >>> text.startswith("// usaav explorers"), re.search("^(import|export) ", text, re.M)
    (True, None)
    """
    return _classic_bundle(str(Path(root).resolve()))


@lru_cache(maxsize=4)
def _classic_bundle(root: str) -> str:
    body = _bundle(CLASSIC_ENTRY, root)
    if _EXPORT_DEFAULT.search(body):
        raise ValueError(f"{CLASSIC_ENTRY}: the classic script's entry must not have `export default`")
    head, _, rest = body.partition("\n")
    return (f"// usaav explorers: classic script of usaav/web/{CLASSIC_ENTRY} and its imports "
            "(usaav.explorers.classic_bundle)\n"
            f"(function () {{\n\"use strict\";\n{rest}\n}})();\n")


@lru_cache(maxsize=4)
def _bundle(entry: str, root: str) -> str:
    base = Path(root)
    owners: dict[str, str] = {}
    parts = [f"// usaav explorers: bundle of usaav/web/{entry} and its imports (usaav.explorers.bundle)\n"]
    for path in module_order(entry, base):
        text = (base / path).read_text(encoding="utf-8")
        for name in _TOP_LEVEL_NAME.findall(text):
            if name in owners:
                raise ValueError(f"top-level name {name!r} is declared in both {owners[name]} and {path}; "
                                 "names must be unique across usaav/web for the bundle")
            owners[name] = path
        parts.append(f"\n// ---- {path} ----\n")
        parts.append(_strip_module(text, path, entry=path == entry))
    return "".join(parts)
