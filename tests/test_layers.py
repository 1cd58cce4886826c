"""DESIGN.md's layer rules, as import-linter contracts (pyproject's [tool.importlinter]).

`test_the_code_keeps_the_layer_rules` checks the real tree (what `make layers` runs); the
others prove the contracts bite: a copy of the package with one forbidden import added fails
on exactly the contract that import breaks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.layers

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    """Run the contracts (from `cwd`'s pyproject.toml) on the `bot` package found in `cwd`."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(cwd), os.environ.get("PYTHONPATH", "")]),
    }
    only = [arg for contract in contracts for arg in ("--contract", contract)]
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", *only],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_code_keeps_the_layer_rules() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture
def copied_tree(tmp_path: Path) -> Path:
    """The package and its contracts, copied where a test may break them."""
    shutil.copytree(ROOT / "bot", tmp_path / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(
    ("package", "forbidden", "contract"),
    [
        ("okr", "bot.models", "okr-pure"),
        ("blocks", "bot.services.errors", "blocks-pure"),
        ("listeners", "bot.repository.refs", "listeners-use-services"),
        ("services", "bot.jobs.outbox", "services-no-entry-points"),
        ("slack", "bot.sandbox.world", "sandbox-only-from-cli-and-web"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    copied_tree: Path, package: str, forbidden: str, contract: str
) -> None:
    chain = f"bot.{package} -> {forbidden}"
    before = lint_imports(copied_tree, contract)
    assert chain not in before.stdout, before.stdout

    init = copied_tree / "bot" / package / "__init__.py"
    init.write_text(init.read_text() + f"\nimport {forbidden}  # breaks the layer rule\n")

    after = lint_imports(copied_tree, contract)
    assert after.returncode != 0, after.stdout + after.stderr
    assert "0 kept, 1 broken" in after.stdout, after.stdout
    assert chain in after.stdout, after.stdout


def test_a_new_module_may_not_import_the_sandbox_either(copied_tree: Path) -> None:
    """The sandbox rule names who may import it, so a module added later is held to it too."""
    (copied_tree / "bot" / "charts.py").write_text("import bot.sandbox.world  # breaks it\n")
    after = lint_imports(copied_tree, "sandbox-only-from-cli-and-web")
    assert after.returncode != 0, after.stdout + after.stderr
    assert "bot.charts -> bot.sandbox.world" in after.stdout, after.stdout
