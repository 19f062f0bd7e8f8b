"""A short season of nightly crawls (bench/soak.py): edits reported once, faults never, kills survived."""

import subprocess
import sys


def test_a_short_season_reports_every_edit_once_and_no_fault():
    result = subprocess.run([sys.executable, "bench/soak.py", "--nights", "7", "--kills", "2", "--seed", "3"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = {line[:18].strip(): line[18:].strip() for line in result.stdout.splitlines()}
    assert int(summary["changes expected"]) > 0
    assert summary["reported"] == summary["changes expected"]
    assert summary["missed"] == summary["false alarms"] == summary["reported twice"] == "0"
    assert summary["kills survived"] == "2"
    assert result.stdout.rstrip().endswith("OK")
