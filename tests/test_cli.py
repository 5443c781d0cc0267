"""The command line as a user meets it: JSON listing, checks, one-line errors."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import needs_rustc
from typer.testing import CliRunner

from sleepy.cli import app

runner = CliRunner()


def test_koans_list_json_has_every_frozen_koan():
    result = runner.invoke(app, ["koans", "list", "--pack", "rust", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert len(rows) >= 40 and all(set(r) == {"id", "family", "signature"} for r in rows)


@needs_rustc
def test_koans_check_on_a_user_folder_and_a_malformed_one(tmp_path):
    good = tmp_path / "tasks" / "t1"
    good.mkdir(parents=True)
    (good / "task.toml").write_text('family = "borrow"\nsignature = "rust:E0382:borrow-of-moved-value"\n')
    (good / "main.rs").write_text(
        'fn main() {\n    let a = String::new();\n    let b = a;\n    println!("{}{}", a, b);\n}\n')
    result = runner.invoke(app, ["koans", "check", "--pack", "rust", "--tasks", str(tmp_path / "tasks")])
    assert result.exit_code == 0, result.output
    (tmp_path / "tasks" / "t2").mkdir()
    (tmp_path / "tasks" / "t2" / "task.toml").write_text("family = [\n")
    result = runner.invoke(app, ["koans", "check", "--pack", "rust", "--tasks", str(tmp_path / "tasks")])
    assert result.exit_code == 2 and "t2/task.toml: invalid TOML" in result.output.replace("\n", "")


def test_every_command_has_help_with_an_example():
    for command in (["koans", "list"], ["koans", "check"], ["day"], ["eval"], ["night"], ["cycle"], ["pretrain"],
                    ["stats"], ["events"], ["releases"], ["rollback"], ["promote"], ["memory", "search"], ["fix"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output, command


def test_missing_rustc_is_one_line_and_python_still_works(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bwrap", "setpriv"):
        if shutil.which(tool):
            os.symlink(shutil.which(tool), bin_dir / tool)
    env = {**os.environ, "PATH": str(bin_dir)}  # the sandbox tools, and no rustc
    cmd = [sys.executable, "-m", "sleepy.cli", "koans", "check", "--pack"]
    rust = subprocess.run([*cmd, "rust", "--generated", "0"], capture_output=True, text=True, env=env, timeout=120)
    assert rust.returncode == 2
    assert "rustc not found" in rust.stderr and "Traceback" not in rust.stderr
    assert len(rust.stderr.strip().splitlines()) == 1
    python = subprocess.run([*cmd, "python", "--generated", "6"], capture_output=True, text=True, env=env,
                            timeout=300, cwd=Path(__file__).parent.parent)
    assert python.returncode == 0, python.stderr
