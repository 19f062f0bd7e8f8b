"""bench/detection.py's quick scenarios: no false alarm and no miss, one noise class of each kind and two real edits.

The noise kinds are blocks (widgets-drupal), ticking values (relative-dates), the same
text rendered otherwise (unicode-nfd-nbsp) and an outage (maintenance); the real edits
are a date corrected on a relative-dates night and an accent added to a title on a
decomposed-Unicode night. Each scenario crawls a fresh sample site with `wwc-archive
crawl` child processes, through the bench's own code (about 30 s for the four).
"""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "detection.py"
QUICK = {  # scenario -> the classes its nights are scored under
    "widgets-drupal": {"widgets-drupal"},
    "relative-dates+date-correction": {"relative-dates", "date-correction"},
    "unicode-nfd-nbsp+title-accent": {"unicode-nfd-nbsp", "title-accent"},
    "maintenance": {"maintenance"},
}


@pytest.fixture(scope="module")
def bench():
    """bench/detection.py as a module."""
    spec = importlib.util.spec_from_file_location("bench_detection", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_the_quick_set_is_one_noise_class_of_each_kind_and_two_real_edits(bench):
    assert {name for name, s in bench.SCENARIOS.items() if s.quick} == set(QUICK)
    kinds = [bench.CLASSES[cls][0] for classes in QUICK.values() for cls in classes]
    assert sorted(k for k in kinds if k.startswith("noise:")) == \
        ["noise:blocks", "noise:outage", "noise:render", "noise:values"]
    assert kinds.count("real") == 2


@pytest.mark.parametrize("name", QUICK)
def test_scenario_reports_every_real_change_and_nothing_else(bench, name, tmp_path):
    lines = []
    result = bench.run_scenario(bench.SCENARIOS[name], seed=list(bench.SCENARIOS).index(name), quick=True,
                                workdir=tmp_path, log=lines.append)
    assert result.skipped is None and result.error is None, result.skipped or result.error
    assert set(result.tallies) == QUICK[name]
    assert all(tally.nights > 0 for tally in result.tallies.values())
    problems = "\n".join(str(p) for p in result.problems)
    assert result.total.failed == 0, problems
    assert result.total.false_alarms == 0, problems
    assert result.total.missed == 0, problems
    for cls in QUICK[name]:
        if bench.CLASSES[cls][0] == "real":
            assert result.tallies[cls].true > 0, f"{cls}: no real change was expected, the scenario proves nothing"
