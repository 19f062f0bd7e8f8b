"""Bad input is one line per problem on stderr, a non-zero exit, no traceback, and no file touched."""

import os

import pytest
from click.testing import CliRunner

from wwc_archive.cli import cli

PROGRAM = '[[program]]\nname = "w"\nstart_urls = ["http://127.0.0.1:9/"]\n'

BAD_CONFIGS = {
    "misspelled table": (PROGRAM + "[reprot]\nrecipients = []\n",
                         "[reprot] is not a known table (did you mean [report]?)"),
    "unknown key": (PROGRAM + "dept = 2\n", "program 'w'.dept is not a known setting (did you mean depth?)"),
    "schedule not a string": (PROGRAM + "schedule = 5\n", "program 'w'.schedule must be a string, not 5"),
    "size not a number": (PROGRAM + '[crawl]\nmax_size = "big"\n',
                          "[crawl].max_size must be a whole number, not 'big'"),
    "size 1e300": (PROGRAM + "[crawl]\nmax_size = 1e300\n", "[crawl].max_size must be a whole number, not 1e+300"),
    "negative size": (PROGRAM + "[crawl]\nmax_size = -1\n", "[crawl].max_size must be a whole number > 0, not -1"),
    "negative depth": (PROGRAM + "depth = -1\n", "program 'w'.depth must be a whole number >= 0, not -1"),
    "infinite delay": (PROGRAM + "[schedule]\nretry_delay = inf\n",
                       "[schedule].retry_delay must be a finite number of seconds, not inf"),
    "zero crawl limit": (PROGRAM + "[crawl]\nmax_requests = 0\n",
                         "[crawl].max_requests must be a whole number > 0, not 0"),
    "bad regex": (PROGRAM + '[program.profile]\nignore_text_patterns = ["(unclosed"]\n',
                  "program 'w'.profile.ignore_text_patterns[0] is not a valid regular expression"),
    "bad selector (old table name)": (PROGRAM + '[program.noise]\ncontent_selectors = ["main >>> p"]\n',
                                      "program 'w'.noise.content_selectors[0] is not a valid CSS selector"),
    "bad title selector": (PROGRAM + '[program.profile]\ntitle_selectors = ["h1["]\n',
                           "program 'w'.profile.title_selectors[0] is not a valid CSS selector"),
    "unknown time zone": (PROGRAM + 'timezone = "Mars/Olympus"\n',
                          "program 'w'.timezone: unknown time zone 'Mars/Olympus'"),
    "cron that never fires": (PROGRAM + 'schedule = "0 3 31 2 *"\n',
                              "program 'w'.schedule never fires: cron '0 3 31 2 *' names no date"),
    "scrapy setting of the wrong type": (PROGRAM + '[crawl.settings]\nDOWNLOAD_TIMEOUT = "abc"\n',
                                         "[crawl.settings].DOWNLOAD_TIMEOUT must be a number"),
    "unknown scrapy setting": (PROGRAM + "[crawl.settings]\nDOWNLOAD_TIMOUT = 3\n",
                               "[crawl.settings].DOWNLOAD_TIMOUT is not a Scrapy setting (did you mean "
                               "DOWNLOAD_TIMEOUT?)"),
    "contact with spaces": (PROGRAM + '[crawl]\ncontact = "call me"\n', "[crawl].contact must be a URL or mail"),
    "password in clear text": (PROGRAM + '[report]\nsecurity = "none"\nsmtp_user = "me"\n',
                               '[report]: security = "none" would send the password of smtp_user \'me\' in clear text'),
}


@pytest.mark.parametrize("text, message", BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
@pytest.mark.parametrize("command", [["crawl"], ["schedule", "--dry-run"], ["report", "--deliver"]])
def test_bad_config_values_are_one_line_each_before_anything_runs(tmp_path, text, message, command):
    config = tmp_path / "wwc.toml"
    config.write_text(text, encoding="utf-8")
    db = tmp_path / "archive.db"
    result = CliRunner().invoke(cli, [*command, "--config", str(config), "--db", str(db)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]
    assert not db.exists()


def test_several_problems_are_a_line_each(tmp_path):
    config = tmp_path / "wwc.toml"
    config.write_text(PROGRAM + "depth = -1\n[crawl]\nmax_size = \"big\"\n[schedule]\nmisfire_grace = 1\n")
    result = CliRunner().invoke(cli, ["crawl", "--config", str(config), "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: program 'w'.depth must be a whole number >= 0, not -1",
        "Error: [crawl].max_size must be a whole number, not 'big'",
        "Error: [schedule].misfire_grace is not a known setting (did you mean misfire_grace_time?)",
    ]


CONFIG_FILES = {
    "not UTF-8": (lambda p: p.write_bytes(PROGRAM.encode() + b'# caf\xe9\n'), "is not UTF-8 text"),
    "a folder": (lambda p: p.mkdir(), "is a folder, not a config file"),
    "not TOML": (lambda p: p.write_text("[[program]\n"), "is not valid TOML"),
}


@pytest.mark.parametrize("make, message", CONFIG_FILES.values(), ids=CONFIG_FILES.keys())
def test_unusable_config_files(tmp_path, make, message):
    config = tmp_path / "wwc.toml"
    make(config)
    result = CliRunner().invoke(cli, ["crawl", "--config", str(config), "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_config_file(tmp_path):
    config = tmp_path / "wwc.toml"
    config.write_text(PROGRAM)
    config.chmod(0)
    result = CliRunner().invoke(cli, ["crawl", "--config", str(config), "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 2 and "cannot read the config file" in result.stderr


SETTINGS = {
    "wrong type": ("DOWNLOAD_TIMEOUT=abc",
                   "-s DOWNLOAD_TIMEOUT=abc: DOWNLOAD_TIMEOUT must be a number (Scrapy's default is 180), not 'abc'"),
    "not a boolean": ("ROBOTSTXT_OBEY=perhaps", "ROBOTSTXT_OBEY must be true or false, not 'perhaps'"),
    "unknown name": ("DOWNLOAD_TIMOUT=3", "DOWNLOAD_TIMOUT is not a Scrapy setting (did you mean DOWNLOAD_TIMEOUT?)"),
    "infinite": ("DOWNLOAD_DELAY=inf", "DOWNLOAD_DELAY must be a number"),
    "a limit that is not a count": ("WWC_MAX_REQUESTS=lots", "WWC_MAX_REQUESTS must be a number"),
    "a negative limit": ("WWC_MAX_RUN_SECONDS=-5", "WWC_MAX_RUN_SECONDS must be a whole number >= 0"),
}


@pytest.mark.parametrize("pair, message", SETTINGS.values(), ids=SETTINGS.keys())
def test_bad_scrapy_settings_on_the_command_line(tmp_path, pair, message):
    db = tmp_path / "a.db"
    result = CliRunner().invoke(cli, ["crawl", "--start-url", "http://127.0.0.1:9/", "-s", pair, "--db", str(db)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert not db.exists()
