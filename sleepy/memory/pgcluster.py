"""A throwaway PostgreSQL cluster on a unix socket, for the store contract tests and the store benchmark.

Why a library module: the PostgreSQL half of the store is only worth something if it is checked
against a real server, and both the contract tests and ``benchmarks/store_speed.py`` need one
without asking a person to run a database. :class:`ThrowawayCluster` runs ``initdb`` into a
temporary folder, starts the server with ``pg_ctl`` listening only on a socket in that folder (no
TCP, so nothing else on the machine can reach it), and :meth:`ThrowawayCluster.stop` stops it and
deletes the folder. PostgreSQL refuses to run as root, so as root the server runs as ``nobody``.

When no server can be started, :class:`ClusterUnavailable` says why in words fit for a skip reason.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

# The test cluster trades durability for speed; a benchmark that measures commits wants PostgreSQL's defaults.
FAST_SETTINGS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


class ClusterUnavailable(RuntimeError):
    """No throwaway server could be started (no binaries, the start failed); the message says why."""


@dataclass(frozen=True)
class Database:
    name: str
    url: str
    icu: bool  # created with the ICU locale that was asked for (False: the cluster's C default)


def postgres_bin_dir() -> Path | None:
    """Where initdb and pg_ctl live: on PATH, else Debian's /usr/lib/postgresql/<newest>/bin."""
    found = shutil.which("initdb")
    if found and (Path(found).resolve().parent / "pg_ctl").exists():
        return Path(found).resolve().parent
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                  key=lambda d: [int(x) for x in re.findall(r"\d+", d)])
    dirs = [d for d in dirs if os.path.exists(f"{d}/initdb") and os.path.exists(f"{d}/pg_ctl")]
    return Path(dirs[-1]) if dirs else None


def as_server_user(folder: str) -> list[str]:
    """A command prefix that drops root (PostgreSQL refuses to run as root) to ``nobody``, owner of ``folder``."""
    if os.geteuid() != 0:
        return []
    user = pwd.getpwnam("nobody")
    os.chown(folder, user.pw_uid, user.pw_gid)
    if shutil.which("runuser"):
        return ["runuser", "-u", "nobody", "--"]
    if shutil.which("setpriv"):
        return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
    raise RuntimeError("running as root and neither runuser nor setpriv is available to drop to 'nobody'")


def free_port() -> int:
    """A port number nobody listens on; with no TCP listener it only names the socket file (.s.PGSQL.<port>)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _text(value: str | bytes | None) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else (value or "")


class ThrowawayCluster:
    """One PostgreSQL server in a temporary folder, for as long as a test session or a benchmark runs.

    ``durable=False`` (the tests) turns off fsync, synchronous commit and full-page writes, so a
    test suite does not wait on the disk; ``durable=True`` keeps PostgreSQL's defaults, which is
    what a commit benchmark must measure. Use as a context manager, or call :meth:`start` and
    :meth:`stop`. Every connection is trusted as ``user`` over the socket (no password).
    """

    def __init__(self, durable: bool = False, user: str = "sleepy", bin_dir: Path | None = None) -> None:
        self.durable, self.user = durable, user
        self.bin_dir = bin_dir
        self.root: str | None = None
        self.port: int | None = None
        self._prefix: list[str] = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Self:
        """initdb and start the server; :class:`ClusterUnavailable` (the reason in words) if either fails."""
        bin_dir = self.bin_dir or postgres_bin_dir()
        if bin_dir is None:
            raise ClusterUnavailable("PostgreSQL is not installed: no initdb/pg_ctl on PATH or in "
                                     "/usr/lib/postgresql/*/bin (apt-get install postgresql)")
        self.bin_dir = bin_dir
        self.root = tempfile.mkdtemp(prefix="sleepy-pg-")  # not a test's tmp dir: the server user must reach it
        self.port = free_port()
        data, log = f"{self.root}/data", f"{self.root}/server.log"
        options = f"-k {self.root} -p {self.port} -c listen_addresses=''"
        if not self.durable:
            options += f" {FAST_SETTINGS}"
        try:
            self._prefix = as_server_user(self.root)
            subprocess.run([*self._prefix, str(bin_dir / "initdb"), "-D", data, "-U", self.user, "-A", "trust",
                            "-E", "UTF8", "--locale=C", "--no-sync"], check=True, capture_output=True, text=True,
                           timeout=120)
            subprocess.run([*self._prefix, *self._ctl(), "-l", log, "-w", "-t", "60", "-o", options, "start"],
                           check=True, capture_output=True, text=True, timeout=90)
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            detail = _text(getattr(exc, "stderr", None))
            if os.path.exists(log):
                detail += Path(log).read_text(errors="replace")[-500:]
            self.stop()  # in case it started after all (a slow start past pg_ctl's wait)
            raise ClusterUnavailable(f"could not start a throwaway PostgreSQL server with {bin_dir}: {exc} "
                                     f"{detail}".strip()) from None
        return self

    def stop(self) -> None:
        """Stop the server (immediately: its data is thrown away) and delete its folder; safe to call twice."""
        if self.root is None:
            return
        if self.bin_dir is not None:
            subprocess.run([*self._prefix, *self._ctl(), "-m", "immediate", "-w", "stop"], capture_output=True,
                           timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _ctl(self) -> list[str]:
        return [str(Path(self.bin_dir) / "pg_ctl"), "-D", f"{self.root}/data"]

    # ------------------------------------------------------------------ connecting
    def url(self, db: str = "postgres", schema: str | None = None) -> str:
        """A libpq URL for ``db`` over the socket; ``schema`` becomes the connection's search_path."""
        if self.root is None:
            raise ClusterUnavailable("the throwaway PostgreSQL server is not running")
        options = f"&options=-csearch_path%3D{schema}" if schema else ""
        return f"postgresql://{self.user}@/{db}?host={self.root}&port={self.port}{options}"

    def new_database(self, name: str, icu_locale: str | None = None) -> Database:
        """Create database ``name``; with ``icu_locale`` its default collation is that ICU locale when the
        server has ICU (an older server or one without ICU gets the cluster's C default: see ``icu``)."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"database name {name!r}: use lower-case letters, digits and _")
        if icu_locale is not None and not re.fullmatch(r"[A-Za-z0-9_-]+", icu_locale):
            raise ValueError(f"ICU locale {icu_locale!r}: use letters, digits, _ and -")
        try:
            import psycopg
        except ImportError:
            raise ClusterUnavailable("a PostgreSQL database needs psycopg 3 (pip install 'psycopg[binary]')") from None
        icu = False
        with psycopg.connect(self.url("postgres"), autocommit=True) as admin:
            if icu_locale is not None:
                try:
                    admin.execute(f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu "
                                  f"ICU_LOCALE '{icu_locale}' LOCALE 'C'")
                    icu = True
                except psycopg.Error:
                    pass
            if not icu:
                admin.execute(f"CREATE DATABASE {name}")
        return Database(name, self.url(name), icu)
