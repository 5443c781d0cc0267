"""Every ``sleepy ...`` command line in README.md works as written.

Cheap commands run for real in a temporary folder (a tiny broken crate at ``path/to/crate``, a task
folder at ``my-tasks/``); the others (a cycle, a night, the server, anything that loads the model
on a real workload) are checked against their ``--help``. Either way every flag a line uses must
appear in that command's ``--help``: a README that drifts from the CLI fails here, not on a
newcomer's first try.
"""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from conftest import needs_rustc
from typer.testing import CliRunner

from sleepy.cli import app

README = Path(__file__).parent.parent / "README.md"
WIDE = {"COLUMNS": "250", "TERMINAL_WIDTH": "250"}

# Run for real, in this order, in one temporary folder: (command line, the exit code it must give).
RUN = {
    "sleepy koans list --pack rust": 0,
    "sleepy koans show borrow-01-inventory-move --pack rust --fix": 0,
    "sleepy koans check --pack python --tasks my-tasks/": 0,
    "sleepy fix path/to/crate": 0,
    "sleepy fix path/to/crate --apply": 0,
    "sleepy fix path/to/crate --undo": 0,
    "sleepy releases": 0,
    "sleepy stats --by signature": 0,
    "sleepy events --limit 20": 0,
    "sleepy memory stats": 0,
}
NEEDS_RUSTC = {"sleepy koans show borrow-01-inventory-move --pack rust --fix", "sleepy fix path/to/crate",
               "sleepy fix path/to/crate --apply", "sleepy fix path/to/crate --undo"}


def readme_commands() -> list[str]:
    """Every command line: ``sleepy`` lines of fenced blocks (comments and a trailing ``&`` dropped) and
    inline code spans that start with ``sleepy ``."""
    text = README.read_text()
    found: list[str] = []
    for lang, block in re.findall(r"```(\w*)\n(.*?)```", text, re.S):  # every fence, paired in order
        if lang not in ("", "bash"):
            continue
        for line in block.splitlines():
            line = line.split("  #", 1)[0].strip().removesuffix("&").strip()
            if line.startswith("sleepy "):
                found.append(line)
    outside = re.sub(r"```.*?```", "", text, flags=re.S)
    found += [m.strip() for m in re.findall(r"`(sleepy [^`]+)`", outside)]
    return list(dict.fromkeys(found))


def resolve(line: str) -> tuple[list[str], list[tuple[list[str], str]]]:
    """The command path the line names, and each flag with the command path whose ``--help`` must show it."""
    args = shlex.split(line)[1:]
    command = typer.main.get_command(app)  # typer's own click: groups have .commands
    path: list[str] = []
    flags: list[tuple[list[str], str]] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("-"):
            flags.append((list(path), arg.split("=", 1)[0]))
            param = next((p for p in command.params if arg.split("=", 1)[0] in p.opts + p.secondary_opts), None)
            takes_value = param is not None and not getattr(param, "is_flag", False) and "=" not in arg
            i += 2 if takes_value else 1
            continue
        if hasattr(command, "commands"):
            assert arg in command.commands, f"{line}: no command {arg!r} under {' '.join(['sleepy', *path])}"
            command = command.commands[arg]
            path.append(arg)
        i += 1
    assert path, f"{line}: names no command"
    return path, flags


def help_text(path: list[str]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env=WIDE)
    assert result.exit_code == 0, (path, result.output)
    return result.output


def test_the_readme_has_the_commands_a_newcomer_needs():
    lines = readme_commands()
    needed = {"sleepy cycle --quick", "sleepy cycle", "sleepy fix path/to/crate", "sleepy serve --port 8000"}
    assert needed <= set(lines)
    assert set(RUN) <= set(lines), set(RUN) - set(lines)  # the run list follows the README, not the reverse


@pytest.mark.parametrize("line", readme_commands())
def test_every_flag_of_every_readme_command_is_in_its_help(line):
    command, flags = resolve(line)
    helps: dict[tuple[str, ...], str] = {tuple(command): help_text(command)}  # the command exists and has help
    for path, flag in flags:
        text = helps.setdefault(tuple(path), help_text(path))
        assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text), f"{line}: {flag} not in --help"


def crate(root: Path) -> None:
    """``path/to/crate``: a Cargo package with one error rustc knows how to fix (a moved String)."""
    src = root / "path" / "to" / "crate" / "src"
    src.mkdir(parents=True)
    (src.parent / "Cargo.toml").write_text('[package]\nname = "demo"\nversion = "0.1.0"\nedition = "2021"\n')
    (src / "main.rs").write_text('fn main() {\n    let s = String::from("hi");\n    let t = s;\n'
                                 '    println!("{} {}", s, t);\n}\n')


def my_tasks(root: Path) -> None:
    """``my-tasks/``: one Python task in the pack format."""
    task = root / "my-tasks" / "missing-import"
    task.mkdir(parents=True)
    (task / "task.toml").write_text('family = "name-import"\nsignature = "py:NameError:name-is-not-defined"\n')
    (task / "main.py").write_text("print(sqrt(16.0))\n")
    (task / "fix.py").write_text("from math import sqrt\n\nprint(sqrt(16.0))\n")


@needs_rustc
def test_the_cheap_readme_commands_run_as_written(tmp_path):
    crate(tmp_path)
    my_tasks(tmp_path)
    original = (tmp_path / "path/to/crate/src/main.rs").read_text()
    for line, code in RUN.items():
        run = subprocess.run([sys.executable, "-m", "sleepy.cli", *shlex.split(line)[1:]], cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == code, f"{line}: exit {run.returncode}\n{run.stdout}\n{run.stderr}"
        assert "Traceback" not in run.stderr, line
        if line == "sleepy fix path/to/crate --apply":
            assert "s.clone()" in (tmp_path / "path/to/crate/src/main.rs").read_text()
    assert (tmp_path / "path/to/crate/src/main.rs").read_text() == original  # --undo restored it


@needs_rustc
def test_the_serve_examples_work_as_written(micro, tmp_path):
    """The README's curl and ``openai`` examples, run as written against a real ``sleepy serve`` (on a free
    port instead of 8000; the micro model, since the tools answer this program before any model call)."""
    import json

    from test_serve_teacher import running_server

    from sleepy.tasks.task import Task
    from sleepy.tasks.verify import verify

    section = README.read_text().split("## Serve", 1)[1].split("\n## ", 1)[0]
    (bash,) = re.findall(r"```bash\n(.*?)```", section, re.S)
    (python,) = re.findall(r"```python\n(.*?)```", section, re.S)
    curl = bash.split("\n", 1)[1]  # the first line starts the server: the test starts its own
    assert bash.startswith("sleepy serve --port 8000 &") and curl.startswith("curl ")
    with running_server(str(micro[0] / "model"), tmp_path / "ws") as url:
        port = url.rsplit(":", 1)[1]
        done = subprocess.run(["bash", "-c", curl.replace("localhost:8000", f"localhost:{port}")],
                              capture_output=True, text=True, timeout=120)
        answer = json.loads(done.stdout)["sleepy"]
        printed = subprocess.run([sys.executable, "-c", python.replace("localhost:8000", f"localhost:{port}")],
                                 capture_output=True, text=True, timeout=120)
    assert answer["verified"] and answer["solved_by"] == "tool"
    assert answer["signature"] == "rust:E0382:borrow-of-moved-value"
    program = json.loads(re.search(r"\"program\":\s*(\".*?\")\}", curl, re.S).group(1).replace("\n    ", ""))
    assert verify(Task("readme", "rust", "x", program), answer["program"]).passed
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.strip() == answer["program"].strip()
