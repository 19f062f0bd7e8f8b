"""The command reference, ``docs/commands.md``, written from the commands' own ``--help``.

    python -m wwc_archive.cli.reference > docs/commands.md

``tests/test_docs.py`` fails when the file differs from what this prints, so the
reference cannot fall behind the commands.
"""

import click

from wwc_archive.cli import cli


def help_text(name: str) -> str:
    """``wwc-archive NAME --help``, as a terminal 100 columns wide shows it."""
    command = cli.commands[name]
    width = {"terminal_width": 100, "max_content_width": 100}
    with click.Context(cli, info_name="wwc-archive", **cli.context_settings, **width) as parent:
        with click.Context(command, info_name=name, parent=parent, **command.context_settings) as ctx:
            return command.get_help(ctx)


def reference() -> str:
    """Every command's help, one section each, in the order ``wwc-archive --help`` lists them."""
    parts = ["# Command reference",
             "",
             "Written from each command's `--help` by `python -m wwc_archive.cli.reference > docs/commands.md`;",
             "a test fails when it falls behind.",
             ""]
    for name in sorted(cli.commands):
        parts += [f"## wwc-archive {name}", "", "```", help_text(name).rstrip(), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    print(reference(), end="")
