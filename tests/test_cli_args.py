"""What every command shares: `--version`, and help that shows each flag's default."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import inferwatch
import pytest
from inferwatch._cli_args import HelpFormatter
from inferwatch.cli import build_parser, main


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every command and subcommand, with the words that name it (`sourcemaps upload`)."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, (*path, name))


ALL = [path for path, _ in commands(build_parser())]


def test_the_commands_are_all_found() -> None:
    assert {"serve", "issues", "show", "snippet", "mcp", "export"} <= {p[0] for p in ALL if p}
    assert ("sourcemaps", "upload") in ALL


@pytest.mark.parametrize("path", ALL, ids=lambda path: " ".join(path) or "inferwatch")
def test_every_command_answers_version(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*path, "--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"inferwatch {inferwatch.__version__}\n"


def test_every_flag_with_a_default_says_it_in_its_help() -> None:
    unsaid = []
    for path, parser in commands(build_parser()):
        formatter = HelpFormatter(" ".join(("inferwatch", *path)))
        for action in parser._actions:
            default = action.default
            if not action.option_strings or action.help == argparse.SUPPRESS:
                continue
            if default in (None, False, [], argparse.SUPPRESS) or action.dest == "help":
                continue
            if "default" not in (formatter._get_help_string(action) or ""):
                unsaid.append(f"{' '.join(path)} {action.option_strings[0]}")
    assert unsaid == []


def test_serve_help_shows_its_address_port_and_retention_defaults(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # as wrapped for any terminal width
    for said in (
        "(default: 127.0.0.1)",
        "(default: 8765)",
        "(default: 200000)",
        "(default: 1000)",
        "(default: 30.0)",
    ):
        assert said in text
