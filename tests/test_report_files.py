"""Report files are replaced atomically, and mail never sends a password in clear text by accident."""

import errno
import os

import pytest
from click.testing import CliRunner

from wwc_archive.cli import cli
from wwc_archive.reports.delivery import DeliveryError, build_message, send
from wwc_archive.reports.settings import ReportSettings


def disk_full(*_args):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_failed_write_of_report_output_leaves_the_old_file(edited_archive, tmp_path, monkeypatch):
    (tmp_path / "out").mkdir()
    output = tmp_path / "out" / "report.html"
    output.write_bytes(b"<p>yesterday's report</p>")
    monkeypatch.setattr(os, "fsync", disk_full)
    result = CliRunner().invoke(cli, ["report", "--db", edited_archive.path, "-o", str(output)])
    assert result.exit_code == 1 and "No space left on device" in result.stderr
    assert output.read_bytes() == b"<p>yesterday's report</p>"
    assert os.listdir(tmp_path / "out") == ["report.html"], "no temporary file left behind"


def test_a_failed_write_in_the_reports_folder_leaves_the_old_files(edited_archive, tmp_path, monkeypatch):
    folder = tmp_path / "reports"
    config = tmp_path / "wwc.toml"
    config.write_text(f'[[program]]\nname = "w"\nstart_urls = ["http://127.0.0.1:9/"]\n'
                      f'[report]\nreports_dir = "{folder}"\n')
    first = CliRunner().invoke(cli, ["report", "--config", str(config), "--db", edited_archive.path, "--deliver"])
    assert first.exit_code == 0, first.output
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    assert {"run-0002.html", "index.html", "changes.atom"} <= set(before)
    calls = []

    def fail_on_the_third_file(descriptor):
        calls.append(descriptor)
        if len(calls) == 3:
            disk_full()

    monkeypatch.setattr(os, "fsync", fail_on_the_third_file)
    for path in folder.iterdir():
        path.write_bytes(b"old " + path.name.encode())
    old = {path.name: path.read_bytes() for path in folder.iterdir()}
    again = CliRunner().invoke(cli, ["report", "--config", str(config), "--db", edited_archive.path, "--deliver"])
    assert again.exit_code == 1 and "No space left on device" in again.stderr
    after = {path.name: path.read_bytes() for path in folder.iterdir()}
    assert set(after) == set(old), "no temporary file left behind"
    unchanged = [name for name in old if after[name] == old[name]]
    assert len(unchanged) >= len(old) - 2, "only the files written before the failure changed"
    assert all(after[name] in (old[name], before[name]) for name in old), "no half-written file"


@pytest.mark.parametrize("allowed", [False, True], ids=["refused", "allowed"])
def test_a_clear_text_password_is_refused_at_send_time_unless_allowed(allowed, monkeypatch):
    # Settings made in code skip the config's check; sending checks again.
    settings = ReportSettings.model_construct(
        **{**ReportSettings().model_dump(), "smtp_host": "127.0.0.1", "smtp_port": 9, "security": "none",
           "smtp_user": "me", "allow_plaintext_password": allowed, "recipients": ("a@example.org",)})
    monkeypatch.setenv(settings.password_env, "secret")
    with pytest.raises(DeliveryError) as error:
        send(settings, build_message(settings, settings.recipients, "subject", "text"))
    if allowed:
        assert "could not send mail through 127.0.0.1:9" in str(error.value)
    else:
        assert "not logging in to 127.0.0.1:9 (none)" in str(error.value) and "clear text" in str(error.value)
