"""The release registry: immutable, content-addressed releases and atomically moved aliases.

A release is a folder ``releases/<id>/`` holding ``manifest.json`` (base model and its hash, the
router table, the skills, the parent release, metrics) and every skill's files; ``files.json``
lists the sha256 of every file, and the release id is the hash of that list. Aliases
(``production``, ``candidate``) live in ``aliases.json``, replaced atomically (write, fsync,
rename); every move is appended to ``history.jsonl`` with who, when, why and metrics. A file whose
hash no longer matches is refused with a clear error. ``base`` is the implicit release of the
core model alone.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sleepy.files import atomic_write_text

BASE = "base"
ALIASES = ("production", "candidate")


class RegistryError(RuntimeError):
    """A missing, unknown or corrupted release; the message is one line."""


@dataclass
class SkillInfo:
    name: str
    kind: str  # lora | share
    signatures: list[str]
    path: str  # relative to the release folder
    trainable_parameters: int = 0
    manifest: dict = field(default_factory=dict)


@dataclass
class Release:
    id: str
    base_model: str
    base_hash: str
    router: dict[str, str]  # signature -> skill name
    skills: list[SkillInfo]
    parent: str | None
    created_at: str
    notes: dict = field(default_factory=dict)
    folder: Path | None = None

    def skill(self, name: str) -> SkillInfo:
        return next(s for s in self.skills if s.name == name)


def _sha_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Registry:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.releases_dir = root / "releases"
        self.releases_dir.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ one night at a time
    @contextmanager
    def night_lock(self):
        """Hold the registry for one night: two nights at once would both build candidates from the same
        failures and race to promote. An OS lock (``flock``), so a crashed night never leaves it held. On
        entry, staging folders a crashed night left behind are removed (no other night can be using them)."""
        import fcntl

        path = self.root / "night.lock"
        with path.open("a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                holder = fh.read().strip() or "another process"
                raise RegistryError(f"another night is running on {self.root} ({holder}); wait for it to end") from None
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()} since {datetime.now(UTC).isoformat(timespec='seconds')}")
            fh.flush()
            try:
                for stale in self.root.glob("staging-*"):
                    shutil.rmtree(stale, ignore_errors=True)
                yield
            finally:
                fh.seek(0)
                fh.truncate()
                fcntl.flock(fh, fcntl.LOCK_UN)

    # ------------------------------------------------------------------ creating releases
    def create(self, staging: Path, base_model: str, base_hash: str, router: dict[str, str],
               skills: list[SkillInfo], parent: str | None, notes: dict | None = None) -> Release:
        """Seal the skill files in ``staging`` as a new release (moved into the registry)."""
        manifest = {"base_model": base_model, "base_hash": base_hash, "router": router,
                    "skills": [asdict(s) for s in skills], "parent": parent,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"), "notes": notes or {}}
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
        files = {str(p.relative_to(staging)): _sha_file(p) for p in sorted(staging.rglob("*"))
                 if p.is_file() and p.name != "files.json"}
        (staging / "files.json").write_text(json.dumps(files, indent=2, sort_keys=True))
        release_id = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]
        target = self.releases_dir / release_id
        if not target.exists():
            os.replace(staging, target)
        else:
            shutil.rmtree(staging)
        return self.get(release_id)

    # ------------------------------------------------------------------ reading
    def resolve(self, name: str) -> str:
        """An alias or release id (or a unique prefix of one) -> a release id; ``base`` stays ``base``."""
        if name == BASE:
            return BASE
        aliases = self.aliases()
        if name in ALIASES:
            return aliases.get(name, BASE)
        matches = [p.name for p in self.releases_dir.iterdir() if p.name.startswith(name)]
        if len(matches) != 1:
            raise RegistryError(f"unknown release {name!r}" if not matches else f"ambiguous release prefix {name!r}")
        return matches[0]

    def get(self, name: str, check: bool = True) -> Release | None:
        release_id = self.resolve(name)
        if release_id == BASE:
            return None
        folder = self.releases_dir / release_id
        if not (folder / "manifest.json").is_file():
            raise RegistryError(f"release {release_id} is missing its manifest")
        if check:
            self.verify(release_id)
        m = json.loads((folder / "manifest.json").read_text())
        return Release(release_id, m["base_model"], m["base_hash"], m["router"],
                       [SkillInfo(**s) for s in m["skills"]], m["parent"], m["created_at"], m["notes"], folder)

    def verify(self, release_id: str) -> None:
        folder = self.releases_dir / release_id
        listed = json.loads((folder / "files.json").read_text())
        for rel, digest in listed.items():
            path = folder / rel
            if not path.is_file():
                raise RegistryError(f"release {release_id}: file {rel} is missing")
            if _sha_file(path) != digest:
                raise RegistryError(f"release {release_id}: file {rel} is corrupted (sha256 mismatch); refusing it")

    def list(self) -> list[Release]:
        out = [self.get(p.name, check=False) for p in self.releases_dir.iterdir() if (p / "manifest.json").is_file()]
        return sorted(out, key=lambda r: r.created_at)

    # ------------------------------------------------------------------ aliases
    def aliases(self) -> dict[str, str]:
        path = self.root / "aliases.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def history(self) -> list[dict]:
        path = self.root / "history.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []

    def move(self, alias: str, target: str, why: str, metrics: dict | None = None, who: str | None = None) -> dict:
        """Point ``alias`` at ``target`` atomically and append the move to the history."""
        if alias not in ALIASES:
            raise RegistryError(f"unknown alias {alias!r}: {', '.join(ALIASES)}")
        release_id = self.resolve(target)
        if release_id != BASE:
            self.verify(release_id)
        aliases = self.aliases()
        entry = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "who": who or _who(), "alias": alias,
                 "from": aliases.get(alias, BASE), "to": release_id, "why": why, "metrics": metrics or {}}
        with (self.root / "history.jsonl").open("a") as fh:
            fh.write(json.dumps(entry) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        aliases[alias] = release_id
        atomic_write_text(self.root / "aliases.json", json.dumps(aliases, indent=2, sort_keys=True))
        return entry

    def record_gate(self, release: str, why: str, metrics: dict | None = None) -> dict:
        """Record a gate refusal: production stays where it is, and the reason is kept."""
        entry = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "who": _who(), "release": release,
                 "promoted": False, "why": why, "metrics": metrics or {}}
        with (self.root / "gate.jsonl").open("a") as fh:
            fh.write(json.dumps(entry) + "\n")
        return entry

    def promote(self, release: str, why: str, metrics: dict | None = None) -> dict:
        return self.move("production", release, why, metrics)

    def rollback(self, to: str | None = None, why: str = "rollback", who: str | None = None) -> dict:
        """Move production back to ``to``, or to what it pointed at before its last move."""
        if to is None:
            moves = [h for h in self.history() if h["alias"] == "production"]
            if not moves:
                raise RegistryError("production has never moved: nothing to roll back")
            to = moves[-1]["from"]
        return self.move("production", to, why, who=who)


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
