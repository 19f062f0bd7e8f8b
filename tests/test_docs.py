"""Docs that cannot rot: the command reference is the commands' own help, the example config parses."""

import click
import pytest

from wwc_archive.reports.settings import ReportSettings
from wwc_archive.scheduler.options import ScheduleOptions
from wwc_archive.cli import cli
from wwc_archive.config import load_config

README = open("README.md", encoding="utf-8").read()


def test_the_command_reference_is_what_the_commands_say():
    from wwc_archive.cli.reference import reference

    assert open("docs/commands.md", encoding="utf-8").read() == reference(), (
        "docs/commands.md is behind: python -m wwc_archive.cli.reference > docs/commands.md")


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_and_option_is_in_the_reference(name):
    text = open("docs/commands.md", encoding="utf-8").read().split(f"## wwc-archive {name}\n", 1)[1].split("\n## ", 1)[0]
    for param in cli.commands[name].params:
        if isinstance(param, click.Option) and not param.hidden:
            assert any(opt in text for opt in param.opts), f"{name} {param.opts}"


def test_readme_starts_with_the_two_setup_commands():
    first_lines = README.split("```sh", 1)[1].split("```", 1)[0]
    assert "make demo" in first_lines and "make test" in first_lines


def test_the_example_config_is_valid():
    config = load_config("wwc-archive.example.toml")
    assert config.programs[0].start_urls == ("https://datasmart.hks.harvard.edu/what-works-cities",)
    assert len(config.programs) == 2, "the example shows a second program"
    ReportSettings.from_config(config.report)
    ScheduleOptions.from_table(config.schedule)


def test_the_example_config_documents_every_key_with_its_default():
    import tomllib

    from wwc_archive.config import BackfillConfig, CrawlConfig, ReportConfig, ScheduleConfig
    from wwc_archive.profile import SiteProfile

    data = tomllib.load(open("wwc-archive.example.toml", "rb"))
    text = open("wwc-archive.example.toml", encoding="utf-8").read()
    profile = dict(data["program"][0]["profile"])
    profile.pop("extra_ignore_selectors")
    assert SiteProfile.from_table(profile) == SiteProfile(), "the example profile is the default profile"
    for model in (SiteProfile, CrawlConfig, BackfillConfig, ReportConfig, ScheduleConfig):
        for name in model.model_fields:
            assert f"{name} =" in text or f".{name}]" in text, f"{model.__name__}.{name} is not in the example config"


def test_the_version_is_the_changelogs_latest_release():
    import tomllib
    from importlib.metadata import version

    declared = tomllib.load(open("pyproject.toml", "rb"))["project"]["version"]
    latest = next(line for line in open("CHANGELOG.md", encoding="utf-8") if line.startswith("## "))
    assert version("wwc-archive") == declared, "the installed metadata is stale: pip install -e ."
    assert latest.startswith(f"## {declared} — 20"), f"CHANGELOG's latest section is {latest.strip()!r}"
    from click.testing import CliRunner

    assert CliRunner().invoke(cli, ["--version"]).output.strip().endswith(f"version {declared}")
