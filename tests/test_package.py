"""The installed package: one import namespace, and layers whose imports only point down."""

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("crawler", "archive", "reports", "scheduler")


def test_the_wheel_installs_one_top_level_package(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("wwc_archive-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith(".dist-info")}
    assert top_level == {"wwc_archive"}
    for layer in LAYERS:  # the layers' folders are in it, as subpackages
        assert f"wwc_archive/{layer}/__init__.py" in names
    assert "wwc_archive/reports/templates/report.html" in names
    assert "wwc_archive/reports/datasette/metadata.yml" in names


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("layer", LAYERS)
def test_no_layer_imports_the_cli(layer):
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        for name in imported_modules(path)
        if name == "wwc_archive.cli" or name.startswith("wwc_archive.cli.")
    ]
    assert offenders == []


def test_the_archive_imports_no_scrapy_and_the_crawler_no_sql():
    archive = {name for path in (ROOT / "archive").rglob("*.py") for name in imported_modules(path)}
    crawler = {name for path in (ROOT / "crawler").rglob("*.py") for name in imported_modules(path)}
    assert not {name for name in archive if name.split(".")[0] in ("scrapy", "twisted")}
    assert not {name for name in crawler if name.split(".")[0] in ("sqlite3", "sqlite_utils")}


def test_python_dash_m_runs_the_cli():
    result = subprocess.run([sys.executable, "-m", "wwc_archive", "--help"], capture_output=True, text=True,
                            timeout=60, cwd="/")
    assert result.returncode == 0 and "Usage: wwc-archive" in result.stdout


def test_no_name_is_undefined_unused_or_shadowed():
    """Pyflakes' rules through ruff: an undefined name is a crash waiting on a path no test took."""
    folders = ["archive", "crawler", "reports", "scheduler", "wwc_archive", "bench", "tests"]
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated",
                             "--select", "F401,F811,F821,F841", *folders], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
