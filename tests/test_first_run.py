"""What a newcomer meets first: a wrong task folder, a missing model extra, library noise, undocumented flags."""

import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from sleepy.cli import app

runner = CliRunner()
ROOT = Path(__file__).parent.parent

# A command line run in a fresh interpreter where the model extra's packages cannot be imported.
WITHOUT_MODEL = """
import sys
for name in ("torch", "transformers", "peft", "safetensors", "tokenizers"):
    sys.modules[name] = None  # `import torch` now raises ModuleNotFoundError, as without the extra
from sleepy.cli import app
sys.argv = ["sleepy", *sys.argv[1:]]
app()
"""


def task_folders(tmp_path: Path) -> dict[str, Path]:
    """An empty folder, a program without its task.toml, and a folder of task folders without task.toml."""
    empty = tmp_path / "empty"
    empty.mkdir()
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "main.py").write_text("print(undefined_name)\n")
    nested = tmp_path / "nested" / "t1"
    nested.mkdir(parents=True)
    (nested / "main.py").write_text("print(undefined_name)\n")
    return {"empty": empty, "loose": loose, "nested": nested.parent}


@pytest.mark.parametrize("command", [["koans", "check"], ["koans", "list"], ["eval", "--release", "base"], ["day"]])
def test_a_task_folder_without_tasks_is_one_line_and_exit_2(tmp_path, command):
    for kind, folder in task_folders(tmp_path).items():
        result = runner.invoke(app, [*command, "--pack", "python", "--tasks", str(folder),
                                     *(["-w", str(tmp_path / "ws")] if command[0] in ("eval", "day") else [])])
        assert result.exit_code == 2, (command, kind, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (command, kind, result.output)
        assert ("no task folders in it" if kind == "empty" else "missing task.toml") in lines[0]
        assert "0/0" not in result.output


@pytest.mark.parametrize("command", [["day", "-n", "1", "--pack", "python"], ["eval", "--release", "base"]])
def test_without_the_model_extra_a_command_names_the_extra_to_install(tmp_path, command):
    run = subprocess.run([sys.executable, "-c", WITHOUT_MODEL, *command, "-w", str(tmp_path / "ws")],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip() == (f"error: sleepy {command[0]} needs the model extra (torch is not installed): "
                                  "pip install 'sleepy[model]'")
    assert "Traceback" not in run.stderr + run.stdout


def test_without_the_model_extra_commands_that_need_no_model_still_work(tmp_path):
    run = subprocess.run([sys.executable, "-c", WITHOUT_MODEL, "koans", "list", "--pack", "python", "--json"],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert '"family"' in run.stdout


# A command that warns as transformers does, added to the app in a fresh interpreter.
WARNS = """
import sys, warnings
from sleepy.cli import app

@app.command("warns")
def warns() -> None:
    warnings.warn("`resume_download` is deprecated", FutureWarning)
    print("done")

sys.argv = ["sleepy", *sys.argv[1:]]
app()
"""


def test_library_warnings_are_hidden_unless_verbose(tmp_path):
    def run(*args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", WARNS, *args], capture_output=True, text=True, timeout=120,
                              cwd=tmp_path, env={"PATH": "/usr/bin:/bin", **env})

    quiet = run("warns")
    assert quiet.returncode == 0 and quiet.stdout == "done\n" and quiet.stderr == ""
    assert "FutureWarning" in run("--verbose", "warns").stderr
    assert "FutureWarning" in run("warns", SLEEPY_VERBOSE="1").stderr


def test_every_jobs_flag_says_what_it_does():
    def walk(command, path):
        for param in command.params:
            if "--jobs" in getattr(param, "opts", []):
                yield path, param
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, [*path, name])

    found = list(walk(typer.main.get_command(app), ["sleepy"]))
    assert len(found) >= 6  # koans check, pretrain, eval, day, night, cycle
    for path, param in found:
        assert param.help and "worker" in param.help, " ".join(path)
