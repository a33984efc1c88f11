"""The repository URL is one setting, ``repository: url:`` in ``_config.yml``; copy it where it is repeated.

The book reads it from ``_config.yml`` (launch buttons, the Colab setup cell).
Files that cannot read it (``pyproject.toml``'s project URLs, the README's
Binder/Colab badges and links, ``CITATION.cff``) repeat it; this script
rewrites them from ``_config.yml``::

    python tools/repository_url.py sync    # (make repository-url)
    python tools/repository_url.py check   # exit 1 and list the files that disagree

The copies are found from the URL they hold now (``Source`` in
``pyproject.toml``): its GitHub, GitHub Pages (``https://OWNER.github.io/REPO/``),
Binder and Colab forms are replaced; other links are left alone.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Files that repeat the repository URL (relative to the repository root).
REPEATED_IN = ("pyproject.toml", "README.md", "CITATION.cff")

_SOURCE = re.compile(r'^Source = "https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)"$', re.MULTILINE)


def configured_repository(root: Path = ROOT) -> tuple[str, str]:
    """(owner, name) from ``repository: url:`` in ``_config.yml``."""
    import yaml

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
    url = ((config.get("repository") or {}).get("url") or "").rstrip("/")
    match = re.fullmatch(r"https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)", url)
    if not match:
        raise ValueError(f"_config.yml: repository.url must be https://github.com/OWNER/REPO, got {url!r}")
    return match.group(1), match.group(2)


def recorded_repository(root: Path = ROOT) -> tuple[str, str]:
    """(owner, name) the repeated copies point at now: ``Source`` in pyproject.toml's project URLs."""
    match = _SOURCE.search((root / "pyproject.toml").read_text(encoding="utf-8"))
    if not match:
        raise ValueError('pyproject.toml: [project.urls] needs Source = "https://github.com/OWNER/REPO"')
    return match.group(1), match.group(2)


def _forms(owner: str, name: str) -> list[str]:
    """How the repository appears: GitHub, GitHub Pages, Binder and Colab links."""
    return [f"github.com/{owner}/{name}", f"{owner.lower()}.github.io/{name}",
            f"mybinder.org/v2/gh/{owner}/{name}/", f"colab.research.google.com/github/{owner}/{name}/"]


def rewrite(text: str, old: tuple[str, str], new: tuple[str, str]) -> str:
    """``text`` with every link to the ``old`` (owner, name) pointing at ``new`` instead."""
    for before, after in zip(_forms(*old), _forms(*new)):
        text = text.replace(before, after)
    return text


def stale_files(root: Path = ROOT) -> list[Path]:
    """Files among :data:`REPEATED_IN` that do not (only) point at the configured repository."""
    new = configured_repository(root)
    old = recorded_repository(root)
    stale = []
    for relative in REPEATED_IN:
        path = root / relative
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        if f"github.com/{new[0]}/{new[1]}" not in text or rewrite(text, old, new) != text:
            stale.append(path)
    return stale


def main(argv: list[str]) -> int:
    if argv not in (["sync"], ["check"]):
        print("usage: python tools/repository_url.py sync|check", file=sys.stderr)
        return 2
    owner, name = configured_repository()
    old = recorded_repository()
    stale = stale_files()
    for path in stale:
        if argv == ["sync"]:
            path.write_text(rewrite(path.read_text(encoding="utf-8"), old, (owner, name)), encoding="utf-8")
            print(f"{path.relative_to(ROOT)}: now points at https://github.com/{owner}/{name}")
        else:
            print(f"{path.relative_to(ROOT)} does not point at https://github.com/{owner}/{name} "
                  "(_config.yml): run make repository-url")
    return 1 if stale and argv == ["check"] else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
