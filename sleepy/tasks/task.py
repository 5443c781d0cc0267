"""Tasks and their on-disk pack format.

A task folder holds the program (``main.rs`` / ``main.py``), a ``task.toml`` and optionally the
reference fix (``fix.rs`` / ``fix.py``)::

    my-task/
      task.toml      id, family, signature, [crate_type], [description], [check_only]
      main.rs        the failing program
      fix.rs         the reference fix (optional for user tasks)

A malformed folder raises :class:`TaskFormatError` whose message names the file and the problem.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomli_w

LANG_EXT = {"rust": "rs", "python": "py"}
CRATE_TYPES = ("bin", "lib")


class TaskFormatError(ValueError):
    """A task folder that cannot be read; the message is one line naming the file."""


@dataclass(frozen=True)
class Task:
    id: str
    pack: str  # "rust" or "python": the language and thus the verifier
    family: str
    source: str
    signature: str | None = None  # expected error signature of ``source``
    fix: str | None = None  # reference fix
    crate_type: str = "bin"
    description: str = ""
    origin: str = "frozen"  # frozen | generated | user
    check_only: bool = False  # Rust: passing means type-checking; otherwise a program with fn main must also run
    project: str | None = None  # a real project's folder: ``source`` is its file ``file``, verified by building it
    file: str | None = None

    @classmethod
    def from_row(cls, r: dict) -> Task:
        """A task as the store keeps it (``Repository.task_rows``)."""
        return cls(r["id"], r["pack"], r["family"], r["source"], r["signature"], origin=r["origin"],
                   project=r.get("project"), file=r.get("file"))

    @property
    def ext(self) -> str:
        return LANG_EXT[self.pack]

    @property
    def filename(self) -> str:
        return f"main.{self.ext}"


def load_task(folder: Path, pack: str | None = None, origin: str = "user") -> Task:
    """Read one task folder; ``pack`` (when given) must agree with the folder's files."""
    meta_path = folder / "task.toml"
    if not meta_path.is_file():
        raise TaskFormatError(f"{meta_path}: missing task.toml")
    try:
        meta = tomllib.loads(meta_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TaskFormatError(f"{meta_path}: invalid TOML ({exc})") from None
    lang = meta.get("pack", pack)
    if lang is None:
        found = [lang for lang, ext in LANG_EXT.items() if (folder / f"main.{ext}").is_file()]
        lang = found[0] if len(found) == 1 else None
    if lang not in LANG_EXT:
        raise TaskFormatError(f"{meta_path}: cannot tell the language: set pack = \"rust\" or \"python\"")
    if pack is not None and lang != pack:
        raise TaskFormatError(f"{meta_path}: pack is {lang!r} but {pack!r} was asked for")
    for key in ("family",):
        if not isinstance(meta.get(key), str) or not meta[key]:
            raise TaskFormatError(f"{meta_path}: missing or empty string field {key!r}")
    crate_type = meta.get("crate_type", "bin")
    if crate_type not in CRATE_TYPES:
        raise TaskFormatError(f"{meta_path}: crate_type must be one of {CRATE_TYPES}, not {crate_type!r}")
    check_only = meta.get("check_only", False)
    if not isinstance(check_only, bool):
        raise TaskFormatError(f"{meta_path}: check_only must be true or false")
    signature = meta.get("signature")
    if signature is not None and not isinstance(signature, str):
        raise TaskFormatError(f"{meta_path}: signature must be a string")
    ext = LANG_EXT[lang]
    program = folder / f"main.{ext}"
    if not program.is_file():
        raise TaskFormatError(f"{program}: missing program file")
    fix_path = folder / f"fix.{ext}"
    try:
        # Bytes decoded as they are: read_text would turn CRLF into LF, and the program is verified as written.
        source = program.read_bytes().decode("utf-8")
        fix = fix_path.read_bytes().decode("utf-8") if fix_path.is_file() else None
    except UnicodeDecodeError:
        raise TaskFormatError(f"{folder}: program files must be UTF-8") from None
    return Task(id=str(meta.get("id", folder.name)), pack=lang, family=meta["family"], source=source,
                signature=signature, fix=fix, crate_type=crate_type,
                description=str(meta.get("description", "")), origin=origin, check_only=check_only)


def load_tasks(root: Path, pack: str | None = None, origin: str = "user") -> list[Task]:
    """Every task folder directly under ``root`` (or ``root`` itself if it is one), sorted by id."""
    if not root.is_dir():
        raise TaskFormatError(f"{root}: not a folder of tasks")
    if (root / "task.toml").is_file():
        return [load_task(root, pack, origin)]
    tasks = [load_task(d, pack, origin) for d in sorted(root.iterdir()) if d.is_dir()
             and not d.name.startswith(".")]
    ids = [t.id for t in tasks]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise TaskFormatError(f"{root}: duplicate task ids {sorted(dup)}")
    return tasks


def save_task(task: Task, folder: Path) -> Path:
    """Write ``task`` in the pack format (used to export generated tasks)."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"id": task.id, "pack": task.pack, "family": task.family, "crate_type": task.crate_type}
    if task.signature:
        meta["signature"] = task.signature
    if task.description:
        meta["description"] = task.description
    if task.check_only:
        meta["check_only"] = True
    (folder / "task.toml").write_text(tomli_w.dumps(meta), encoding="utf-8")
    (folder / task.filename).write_bytes(task.source.encode("utf-8"))
    if task.fix is not None:
        (folder / f"fix.{task.ext}").write_bytes(task.fix.encode("utf-8"))
    return folder
