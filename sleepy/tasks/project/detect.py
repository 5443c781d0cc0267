"""What a folder is: a Cargo package or workspace, or a Python project (or one file of either)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

SKIP_DIRS = {".git", "target", ".sleepy", "__pycache__", ".venv", "venv", ".tox", ".mypy_cache", ".pytest_cache",
             ".ruff_cache", "node_modules", "build", "dist"}
MAX_FILES = 2000
MAX_FILE_BYTES = 2 << 20


class ProjectError(ValueError):
    """A folder that is not a project sleepy can repair; the message is one line naming the problem."""


@dataclass
class Project:
    root: Path  # the folder given (a single file's parent for a one-file project)
    kind: str  # cargo | python
    files: dict[str, str] = field(default_factory=dict)  # relative path -> text, every source file
    entry: str | None = None  # Python: the script to run when there are no tests
    has_tests: bool = False
    single_file: bool = False  # one file was given: only it is copied, checked and edited

    @property
    def pack(self) -> str:
        return "rust" if self.kind == "cargo" else "python"


def _sources(root: Path, suffixes: tuple[str, ...], extra: tuple[str, ...] = ()) -> dict[str, str]:
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in SKIP_DIRS or part.startswith(".") and part != "." for part in rel.parts[:-1]):
            continue
        if not path.is_file() or not (path.suffix in suffixes or path.name in extra):
            continue
        if len(out) >= MAX_FILES:
            raise ProjectError(f"{root}: more than {MAX_FILES} source files; point sleepy fix at one package")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ProjectError(f"{path}: larger than {MAX_FILE_BYTES >> 20} MB")
        try:
            out[rel.as_posix()] = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise ProjectError(f"{path}: not UTF-8 text") from None
    return out


def detect_project(path: Path) -> Project:
    """The project at ``path``; :class:`ProjectError` when it is none sleepy can repair."""
    path = Path(path)
    if not path.exists():
        raise ProjectError(f"{path}: no such file or folder")
    if path.is_file():
        if path.suffix not in (".py", ".rs"):
            raise ProjectError(f"{path}: not a Rust or Python file or project")
        if path.suffix == ".rs":
            raise ProjectError(f"{path}: a single Rust file is a task, not a project: use sleepy eval --tasks, "
                               "or give the folder with its Cargo.toml")
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise ProjectError(f"{path}: not UTF-8 text") from None
        return Project(path.parent, "python", {path.name: text}, entry=path.name, single_file=True)
    if (path / "Cargo.toml").is_file():
        files = _sources(path, (".rs",), ("Cargo.toml",))
        if not any(f.endswith(".rs") for f in files):
            raise ProjectError(f"{path}: Cargo.toml but no .rs files")
        return Project(path, "cargo", files, has_tests=True)
    python_marked = any((path / n).is_file() for n in ("pyproject.toml", "setup.cfg", "setup.py"))
    files = _sources(path, (".py",))
    if not files:
        what = "a Python project without .py files" if python_marked else "not a Cargo or Python project"
        raise ProjectError(f"{path}: {what} (no Cargo.toml, pyproject.toml, setup.cfg or .py files)")
    tests = any(Path(f).name.startswith("test_") or Path(f).name.endswith("_test.py") for f in files)
    entry = next((f for f in ("__main__.py", "main.py", "app.py") if f in files), None)
    if entry is None and len(files) == 1:
        entry = next(iter(files))
    return Project(path, "python", files, entry=entry, has_tests=tests)
