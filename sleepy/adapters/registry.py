"""The release registry: immutable, content-addressed releases and atomically moved aliases.

A release is a folder ``releases/<id>/`` holding ``manifest.json`` (base model and its hash, the
router table, the skills, the parent release, metrics) and every skill's files; ``files.json``
lists the sha256 of every file (``manifest.json`` included), and the release id is the hash of that
list. Every load recomputes the id from ``files.json`` and checks ``manifest.json`` against it, so a
file changed together with a rewritten ``files.json`` is refused (the id no longer matches); a full
check also hashes every file. Aliases (``production``, ``candidate``) live in ``aliases.json``,
replaced atomically (write, fsync, rename); every move is first appended to ``history.jsonl`` with
who, when, why and metrics. ``base`` is the implicit release of the core model alone.

Damage is expected exactly when recovery is needed (a killed process, a full disk, a hand edit), so
every reader either tolerates it or raises :class:`RegistryDamaged`, whose message is one line naming
the file. A torn (half-written) history line is a move that never happened (the history is written
before the alias), so readers skip it and say so in :attr:`Registry.warnings`. :meth:`Registry.check`
lists every problem and :meth:`Registry.repair` mends what can be mended: torn history lines dropped
(a backup kept), damaged releases moved to ``quarantine/`` with aliases moved off them, and
``aliases.json`` rebuilt from the history.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sleepy.files import atomic_write_text, owner_alive, owner_record, prepare_write, read_owner

BASE = "base"
ALIASES = ("production", "candidate")
STAGING = "staging-"  # a release being built: staging-XXXX/, its owner beside it in staging-XXXX.owner
HINT = "`sleepy registry verify` lists the damage, `sleepy registry repair` mends it"
# manifest.json field -> the types it may hold; anything else is a damaged manifest, not a KeyError later
MANIFEST_FIELDS: dict[str, tuple[type, ...]] = {
    "base_model": (str,), "base_hash": (str,), "router": (dict,), "skills": (list,), "parent": (str, type(None)),
    "created_at": (str,), "notes": (dict,)}


class RegistryError(RuntimeError):
    """A missing, unknown or corrupted release; the message is one line."""


class RegistryDamaged(RegistryError):
    """A registry file that is torn, truncated, missing or does not match its hash.

    A subclass of :class:`RegistryError`, so every command that already prints those as one line does the
    same here; ``line`` (file and what is wrong, no advice) is what ``sleepy registry verify`` prints, and
    ``release`` names the release the file belongs to, so repair knows what to quarantine."""

    def __init__(self, path: Path, what: str, release: str | None = None) -> None:
        self.path, self.what, self.release = path, " ".join(what.split()), release
        self.line = f"{path}: {self.what}"
        super().__init__(f"{self.line} ({HINT})")


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


def release_id_of(files: dict[str, str]) -> str:
    """The release id: the hash of the file list. The list holds manifest.json's hash, so the id covers the
    manifest and every file; registries made before the id was checked on load used the same formula and
    load unchanged."""
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]


def _read_json(path: Path, release: str | None = None) -> object:
    """Parse one registry JSON file; a missing, unreadable or truncated one is RegistryDamaged naming it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RegistryDamaged(path, "missing", release) from None
    except OSError as exc:
        raise RegistryDamaged(path, f"unreadable ({exc.strerror or exc})", release) from None
    try:
        return json.loads(data)
    except ValueError as exc:  # UnicodeDecodeError included: garbage bytes
        raise RegistryDamaged(path, f"not valid JSON, truncated or garbled ({exc})", release) from None


def _is_entry(value: object) -> bool:
    """A usable history line: an alias move with string ends (what rollback and repair read)."""
    return (isinstance(value, dict) and value.get("alias") in ALIASES
            and isinstance(value.get("to"), str) and isinstance(value.get("from"), str))


def _append_line(path: Path, entry: dict, then: Callable[[], None] | None = None) -> None:
    """Append one JSON line durably. A previous write torn by a crash left no newline: start a fresh line,
    so the torn fragment stays one ignorable line instead of garbling this entry too. ``then`` runs once the
    line is written (every reader sees it), before the fsync: what must follow it as closely as possible."""
    with path.open("ab+") as fh:
        fh.seek(0, os.SEEK_END)
        torn = False
        if fh.tell() > 0:
            fh.seek(-1, os.SEEK_END)
            torn = fh.read(1) != b"\n"
        fh.write((b"\n" if torn else b"") + json.dumps(entry).encode() + b"\n")
        fh.flush()
        if then is not None:
            then()
        os.fsync(fh.fileno())


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _free_path(path: Path) -> Path:
    """``path``, or ``path-2``, ``path-3``...: a backup or quarantine never overwrites an earlier one."""
    n, out = 1, path
    while out.exists():
        n += 1
        out = path.with_name(f"{path.name}-{n}")
    return out


class Registry:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.releases_dir = root / "releases"
        self.quarantine_dir = root / "quarantine"
        self.releases_dir.mkdir(parents=True, exist_ok=True)
        self.warnings: list[str] = []  # damage readers tolerated (torn history lines), one line each
        self.sweep_staging()

    # ------------------------------------------------------------------ staging
    def staging(self) -> Path:
        """A new folder to build a release in (:meth:`create` seals it), its owner recorded beside it (not in
        it: every file in it is hashed into the release), so any later start removes it if that owner dies."""
        folder = Path(tempfile.mkdtemp(prefix=STAGING, dir=self.root))
        atomic_write_text(self._owner_file(folder), json.dumps(owner_record()))
        return folder

    @staticmethod
    def _owner_file(folder: Path) -> Path:
        return folder.with_name(folder.name + ".owner")

    def sweep_staging(self) -> list[Path]:
        """Remove the staging folders whose owner is dead: a night killed while it trained left one (measured:
        a LoRA skill's worth of files per kill), and a day or ``sleepy releases`` may come long before the next
        night. One without an owner file (being made, or made by older code) waits for the next night."""
        removed = []
        for owner_file in self.root.glob(f"{STAGING}*.owner"):
            owner = read_owner(owner_file)
            if owner is None or owner_alive(owner):
                continue
            folder = owner_file.with_suffix("")
            shutil.rmtree(folder, ignore_errors=True)
            owner_file.unlink(missing_ok=True)
            removed.append(folder)
        return removed

    # ------------------------------------------------------------------ one night (one decision) at a time
    @contextmanager
    def lock(self, name: str, wait: bool = True):
        """Hold ``<registry>/<name>.lock`` exclusively, its holder (pid, since when) written in it. An OS lock
        (``flock``), so a crashed holder never leaves it held. ``wait`` False: a one-line RegistryError naming
        the holder when another process has it, rather than waiting for it."""
        import fcntl

        path = self.root / f"{name}.lock"
        with path.open("a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                fh.seek(0)
                holder = fh.read().strip() or "another process"
                raise RegistryError(f"another {name} is running on {self.root} ({holder}); wait for it to end") \
                    from None
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()} since {datetime.now(UTC).isoformat(timespec='seconds')}")
            fh.flush()
            try:
                yield
            finally:
                fh.seek(0)
                fh.truncate()
                fcntl.flock(fh, fcntl.LOCK_UN)

    @contextmanager
    def night_lock(self):
        """Hold the registry for one night: two nights at once would both build candidates from the same
        failures and race to promote (:meth:`lock`, refused at once when held). On entry, staging folders a
        crashed night left behind are removed (no other night can be using them)."""
        with self.lock("night", wait=False):
            for stale in self.root.glob(f"{STAGING}*"):
                if stale.is_dir():
                    shutil.rmtree(stale, ignore_errors=True)
                else:
                    stale.unlink(missing_ok=True)
            yield

    # ------------------------------------------------------------------ creating releases
    def create(self, staging: Path, base_model: str, base_hash: str, router: dict[str, str],
               skills: list[SkillInfo], parent: str | None, notes: dict | None = None) -> Release:
        """Seal the skill files in ``staging`` as a new release (moved into the registry)."""
        manifest = {"base_model": base_model, "base_hash": base_hash, "router": router,
                    "skills": [asdict(s) for s in skills], "parent": parent,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"), "notes": notes or {}}
        atomic_write_text(staging / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True))
        files = {str(p.relative_to(staging)): _sha_file(p) for p in sorted(staging.rglob("*"))
                 if p.is_file() and p.name != "files.json"}
        atomic_write_text(staging / "files.json", json.dumps(files, indent=2, sort_keys=True))
        release_id = release_id_of(files)
        target = self.releases_dir / release_id
        if not target.exists():
            os.replace(staging, target)
        else:
            shutil.rmtree(staging)
        if staging.parent == self.root and staging.name.startswith(STAGING):  # made by staging()
            self._owner_file(staging).unlink(missing_ok=True)
        return self.get(release_id)

    # ------------------------------------------------------------------ reading
    def resolve(self, name: str) -> str:
        """An alias or release id (or a unique prefix of one) -> a release id; ``base`` stays ``base``."""
        if name == BASE:
            return BASE
        if name in ALIASES:
            return self.aliases().get(name, BASE)
        matches = [p.name for p in self.releases_dir.iterdir() if p.name.startswith(name)]
        if len(matches) != 1:
            raise RegistryError(f"unknown release {name!r}" if not matches else f"ambiguous release prefix {name!r}")
        return matches[0]

    def get(self, name: str, check: bool = True) -> Release | None:
        """The release ``name`` names (None for ``base``). The id and the manifest are always checked against
        files.json; ``check`` also hashes every file (``list`` skips that: it would read every weight)."""
        release_id = self.resolve(name)
        if release_id == BASE:
            return None
        folder = self.releases_dir / release_id
        if not folder.is_dir():
            where = f"{self.root / 'aliases.json'} names it as {name}" if name in ALIASES else "it was removed"
            raise RegistryDamaged(folder, f"release folder missing ({where})", release_id)
        listed = self._files(release_id)
        release = self._manifest(release_id, listed)
        if check:
            self.verify(release_id)
        return release

    def _files(self, release_id: str) -> dict[str, str]:
        """files.json of a release, refused unless it is a list of hashes whose own hash is the release id."""
        path = self.releases_dir / release_id / "files.json"
        listed = _read_json(path, release_id)
        if not isinstance(listed, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                   for k, v in listed.items()):
            raise RegistryDamaged(path, "not a map of file -> sha256", release_id)
        if "manifest.json" not in listed:
            raise RegistryDamaged(path, "manifest.json not listed", release_id)
        derived = release_id_of(listed)
        if derived != release_id:
            raise RegistryDamaged(path, f"hashes to release id {derived}, not {release_id}: the file list was "
                                        "rewritten; refusing the release", release_id)
        return listed

    def _manifest(self, release_id: str, listed: dict[str, str]) -> Release:
        """manifest.json parsed into a Release; garbage, a missing field or an edit after sealing is damage."""
        folder = self.releases_dir / release_id
        path = folder / "manifest.json"
        m = _read_json(path, release_id)
        if not isinstance(m, dict):
            raise RegistryDamaged(path, "not a JSON object", release_id)
        for key, types in MANIFEST_FIELDS.items():
            if not isinstance(m.get(key), types):
                raise RegistryDamaged(path, f"field {key!r} missing or of the wrong type", release_id)
        if _sha_file(path) != listed["manifest.json"]:
            raise RegistryDamaged(path, "changed after the release was sealed (sha256 mismatch); refusing it",
                                  release_id)
        try:
            skills = [SkillInfo(**s) for s in m["skills"]]
        except TypeError as exc:
            raise RegistryDamaged(path, f"malformed skill entry ({exc})", release_id) from None
        return Release(release_id, m["base_model"], m["base_hash"], m["router"], skills, m["parent"],
                       m["created_at"], m["notes"], folder)

    def _file_problems(self, release_id: str, listed: dict[str, str]) -> Iterator[RegistryDamaged]:
        folder = self.releases_dir / release_id
        for rel, digest in listed.items():
            path = folder / rel
            if not path.is_file():
                yield RegistryDamaged(path, f"missing (listed in files.json of release {release_id})", release_id)
            elif _sha_file(path) != digest:
                yield RegistryDamaged(path, f"corrupted (sha256 mismatch); refusing release {release_id}",
                                      release_id)

    def verify(self, release_id: str) -> None:
        """Raise the first problem of a release: its id, its manifest, then every file's hash."""
        listed = self._files(release_id)
        for problem in self._file_problems(release_id, listed):
            raise problem

    def release_problems(self, release_id: str) -> list[RegistryDamaged]:
        """Every problem of one release (all files hashed): what ``sleepy registry verify`` prints."""
        try:
            listed = self._files(release_id)
            self._manifest(release_id, listed)
        except RegistryDamaged as exc:
            return [exc]
        return list(self._file_problems(release_id, listed))

    def scan(self) -> tuple[list[Release], list[RegistryDamaged]]:
        """Every release that loads (files not hashed), oldest first, and the damage that kept others out."""
        found, damaged = [], []
        for folder in self.releases_dir.iterdir():
            if not folder.is_dir():
                continue
            try:
                release = self.get(folder.name, check=False)
            except RegistryDamaged as exc:
                damaged.append(exc)
                continue
            assert release is not None
            found.append(release)
        return sorted(found, key=lambda r: r.created_at), damaged

    def list(self) -> list[Release]:
        """The releases that load; damaged ones are left out (``scan`` says which and why)."""
        return self.scan()[0]

    # ------------------------------------------------------------------ aliases
    def aliases(self) -> dict[str, str]:
        path = self.root / "aliases.json"
        if not path.is_file():
            return {}
        aliases = _read_json(path)
        if not isinstance(aliases, dict) or not all(isinstance(v, str) for v in aliases.values()):
            raise RegistryDamaged(path, "not a map of alias -> release id")
        return aliases

    def _history_lines(self) -> tuple[list[dict], list[RegistryDamaged]]:
        """The history's entries and one problem per line that is not one (a torn write, a hand edit)."""
        path = self.root / "history.jsonl"
        if not path.is_file():
            return [], []
        entries, bad = [], []
        lines = path.read_bytes().decode("utf-8", "replace").splitlines()
        for n, line in enumerate(lines, 1):
            try:
                value = json.loads(line)
            except ValueError:
                value = None
            if _is_entry(value):
                entries.append(value)
            elif line.strip():
                last = " (the last)" if n == len(lines) else ""
                bad.append(RegistryDamaged(path, f"line {n}{last} torn or not a history entry: {line[:40]!r}"))
        return entries, bad

    def history(self) -> list[dict]:
        """Every alias move, oldest first. A torn line is skipped (the history is written before the alias,
        so the move it began never happened) and named once in ``warnings``."""
        entries, bad = self._history_lines()
        for problem in bad:
            warning = f"{problem.line}; ignored, the move it began never took effect ({HINT})"
            if warning not in self.warnings:
                self.warnings.append(warning)
        return entries

    def move(self, alias: str, target: str, why: str, metrics: dict | None = None, who: str | None = None) -> dict:
        """Point ``alias`` at ``target`` atomically and append the move to the history."""
        if alias not in ALIASES:
            raise RegistryError(f"unknown alias {alias!r}: {', '.join(ALIASES)}")
        release_id = self.resolve(target)
        if release_id != BASE:
            self.get(release_id)
        aliases = self.aliases()
        entry = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "who": who or _who(), "alias": alias,
                 "from": aliases.get(alias, BASE), "to": release_id, "why": why, "metrics": metrics or {}}
        aliases[alias] = release_id
        # The history first (a move is recorded before it takes effect), then the aliases, as close together as
        # can be: the new aliases are written and fsynced before the line is appended, and renamed into place
        # as soon as the line is written (before its fsync). Written after the append's fsync, 22 of 30 kills
        # of a process moving an alias in a loop left the history ahead of the aliases (verify then reports
        # damage, and rollback returns to where production already is); this way, 0 of 90.
        pending = prepare_write(self.root / "aliases.json", json.dumps(aliases, indent=2, sort_keys=True))
        try:
            _append_line(self.root / "history.jsonl", entry, then=pending.commit)
        except BaseException:
            pending.discard()
            raise
        return entry

    def record_gate(self, release: str, why: str, metrics: dict | None = None) -> dict:
        """Record a gate refusal: production stays where it is, and the reason is kept."""
        entry = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "who": _who(), "release": release,
                 "promoted": False, "why": why, "metrics": metrics or {}}
        _append_line(self.root / "gate.jsonl", entry)
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

    # ------------------------------------------------------------------ verify and repair
    def check(self) -> list[RegistryDamaged]:
        """Every problem in the registry, one per damaged file: each release fully (id, manifest, every
        file's hash), aliases.json (parses, names releases that exist, agrees with the history) and every
        history line. Reads only."""
        problems = [p for folder in sorted(self.releases_dir.iterdir()) if folder.is_dir()
                    for p in self.release_problems(folder.name)]
        entries, bad = self._history_lines()
        problems += bad
        try:
            aliases = self.aliases()
        except RegistryDamaged as exc:
            return problems + [exc]
        path = self.root / "aliases.json"
        for alias, target in sorted(aliases.items()):
            if target != BASE and not (self.releases_dir / target).is_dir():
                problems.append(RegistryDamaged(path, f"{alias} names release {target}, which is not in "
                                                      f"{self.releases_dir}"))
        for alias, target in sorted(_last_moves(entries).items()):
            if aliases.get(alias, BASE) != target:
                problems.append(RegistryDamaged(path, f"{alias} is {aliases.get(alias, BASE)} but the last move "
                                                      f"in history.jsonl set it to {target}"))
        return problems

    def repair(self) -> list[str]:
        """Mend what ``check`` finds, holding the night lock; one line per action, none when all is well.

        Torn history lines are dropped (the file is copied aside first), damaged releases move to
        ``quarantine/`` (nothing is deleted), every alias on one moves back to the last sound release it named
        (the move recorded in the history), and aliases.json is rebuilt from the history."""
        with self.night_lock():
            actions = self._repair_history()
            quarantined = self._quarantine_damaged(actions)
            self._move_off(quarantined, actions)
            self._rebuild_aliases(actions)
        return actions

    def _repair_history(self) -> list[str]:
        entries, bad = self._history_lines()
        if not bad:
            return []
        path = self.root / "history.jsonl"
        backup = _free_path(path.with_name(f"{path.name}.bak-{_stamp()}"))
        shutil.copy2(path, backup)
        atomic_write_text(path, "".join(json.dumps(e) + "\n" for e in entries))
        return [f"{p.line}: dropped it (backup: {backup})" for p in bad]

    def _quarantine_damaged(self, actions: list[str]) -> dict[str, str]:
        """Move every release with a problem into quarantine/; release id -> the first problem's line."""
        out: dict[str, str] = {}
        for folder in sorted(self.releases_dir.iterdir()):
            problems = self.release_problems(folder.name) if folder.is_dir() else []
            if not problems:
                continue
            self.quarantine_dir.mkdir(exist_ok=True)
            target = _free_path(self.quarantine_dir / folder.name)
            os.replace(folder, target)
            out[folder.name] = f"{problems[0].path.relative_to(folder)} {problems[0].what}"
            _append_line(self.quarantine_dir / "quarantine.jsonl",
                         {"time": datetime.now(UTC).isoformat(timespec="seconds"), "who": _who(),
                          "release": folder.name, "folder": target.name, "problems": [p.line for p in problems]})
            actions.append(f"quarantined release {folder.name} to {target}: {problems[0].line}")
        return out

    def _move_off(self, quarantined: dict[str, str], actions: list[str]) -> None:
        """Point every alias that names a missing release at the last sound one it named (or base); the move
        is appended to the history so the rebuilt aliases.json agrees with it."""
        entries, _ = self._history_lines()
        current = self._readable_aliases() | _last_moves(entries)
        for alias in ALIASES:
            target = current.get(alias, BASE)
            if target == BASE or (self.releases_dir / target).is_dir():
                continue
            moves = [h for h in entries if h["alias"] == alias]
            earlier = [r for h in reversed(moves) for r in (h["to"], h["from"])]
            fallback = next((r for r in earlier if r == BASE or (self.releases_dir / r).is_dir()), BASE)
            why = f"registry repair: release {target} quarantined ({quarantined[target]})" if target in quarantined \
                else f"registry repair: release {target} is not in {self.releases_dir.name}/"
            _append_line(self.root / "history.jsonl",
                         {"time": datetime.now(UTC).isoformat(timespec="seconds"), "who": _who(), "alias": alias,
                          "from": target, "to": fallback, "why": why, "metrics": {}})
            actions.append(f"moved {alias} off release {target} to {fallback}")

    def _readable_aliases(self) -> dict[str, str]:
        try:
            return self.aliases()
        except RegistryDamaged:
            return {}

    def _rebuild_aliases(self, actions: list[str]) -> None:
        """aliases.json from the history's last move of each alias (an alias the history never moved keeps
        its readable value); a damaged file is copied aside before it is replaced."""
        path = self.root / "aliases.json"
        try:
            current, damaged = self.aliases(), None
        except RegistryDamaged as exc:
            current, damaged = {}, exc
        wanted = current | _last_moves(self._history_lines()[0])
        if damaged is None and wanted == current:
            return
        if damaged is not None:
            backup = _free_path(path.with_name(f"{path.name}.bak-{_stamp()}"))
            shutil.copy2(path, backup)
            actions.append(f"{damaged.line}; copied aside to {backup.name}")
        atomic_write_text(path, json.dumps(wanted, indent=2, sort_keys=True))
        for alias in sorted(wanted):
            if current.get(alias) != wanted[alias]:
                actions.append(f"{path}: {alias} -> {wanted[alias]} (rebuilt from history.jsonl)")


def _last_moves(entries: list[dict]) -> dict[str, str]:
    """Alias -> where its last recorded move took it."""
    return {e["alias"]: e["to"] for e in entries}


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
