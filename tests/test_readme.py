"""The README cannot go stale: its demo sample is what `make demo` prints, its table lists every command."""

import re
import subprocess
import sys
from pathlib import Path

from wwc_archive.cli import cli

README = Path(__file__).resolve().parent.parent / "README.md"
SAMPLE_PATH = "/path/to/wwc-archive-demo.db"


def normalized(text: str, db_path: str) -> str:
    """The demo's output with its port and archive path replaced by the README's placeholders."""
    text = text.replace(db_path, SAMPLE_PATH)
    return re.sub(r"http://127\.0\.0\.1:\d+", "http://127.0.0.1:PORT", text).strip()


def readme_sample() -> str:
    match = re.search(r"<!-- demo-sample -->\n```\n(.*?)\n```", README.read_text(), re.S)
    assert match, "the README has no demo sample after <!-- demo-sample -->"
    return match.group(1)


def test_the_readme_sample_is_what_the_demo_prints(tmp_path):
    db_path = str(tmp_path / "wwc-archive-demo.db")
    printed = subprocess.run(
        [sys.executable, "-m", "wwc_archive", "demo", "--db", db_path],
        capture_output=True, text=True, check=True, timeout=300,
    ).stdout
    assert normalized(printed, db_path) == normalized(readme_sample(), SAMPLE_PATH)


def test_the_readme_lists_every_command():
    table = README.read_text().split("## Commands", 1)[1]
    for name in cli.commands:
        assert f"`wwc-archive {name}" in table, f"`wwc-archive {name}` is not in the README's commands table"
