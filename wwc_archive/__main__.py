from wwc_archive.cli import cli

cli(prog_name="wwc-archive")
