"""Shared by the benchmark scripts: where results go and how they are written."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

RESULTS = Path(__file__).parent / "results"


def machine() -> dict:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports bad input in one line (no usage block), like the CLI's own errors."""

    def error(self, message: str) -> NoReturn:
        sys.exit(f"{self.prog}: {message}")


def write_result(name: str, payload: dict, out: Path | None = None) -> Path:
    """Write ``payload`` to benchmarks/results/<name>.json, or to ``out`` (a smoke run keeps results/ clean)."""
    path = Path(out) if out is not None else RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"benchmark": name, "when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
            **payload}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(body, indent=2))
    tmp.replace(path)
    print(json.dumps(body, indent=2))
    return path


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]
