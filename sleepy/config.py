"""Configuration in one typed place: defaults, then ``<workspace>/config.toml``, then CLI flags.

The workspace folder (default ``./.sleepy``) holds the config, the store and every artifact.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, ValidationError

DEFAULT_WORKSPACE = Path(".sleepy")
SQLITE_PREFIX = "sqlite:///"  # sqlite:///relative/path or sqlite:////absolute/path, as in SQLAlchemy
POSTGRES_PREFIXES = ("postgresql://", "postgres://")  # the two schemes libpq accepts


class ConfigError(ValueError):
    pass


def store_kind(url: str) -> Literal["sqlite", "postgresql"]:
    """Which backend a store URL names; a one-line :class:`ConfigError` for anything else."""
    if url.startswith(SQLITE_PREFIX) and url != SQLITE_PREFIX:
        return "sqlite"
    if url.startswith(POSTGRES_PREFIXES):
        return "postgresql"
    shown = url.split("://", 1)[0] + "://..." if "://" in url else url  # never echo a password
    raise ConfigError(f"unsupported store {shown!r}: use sqlite:///PATH or postgresql://USER@HOST/DB")


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    workspace: Path = DEFAULT_WORKSPACE
    model: str = "bundled"  # a local folder, a hub id, or "bundled"
    device: str = "auto"
    jobs: PositiveInt = 2  # parallel verifier workers
    prompt_budget: Annotated[int, Field(ge=64)] = 900  # tokens
    max_new_tokens: PositiveInt = 96
    batch_size: PositiveInt = 16
    store: str = ""  # "" = SQLite in the workspace; or sqlite:///PATH or postgresql://USER@HOST/DB
    attempts: PositiveInt = 3  # model calls per task in a day
    candidates: list[Literal["tool", "memory", "model"]] = ["tool", "memory", "model"]  # sources tried at each
    # step, in order: the verifier's own hints (rustc's suggestions, Python's "Did you mean", imports from the
    # standard library's index), memory's adapted fix patterns, the model with its routed skill
    max_steps: PositiveInt = 8  # steps per task: a program with several errors is repaired one diagnostic at a time
    tool_candidates: NonNegativeInt = 8  # hints applied and verified per step (each costs one verification, ~40 ms)
    repair_candidates: NonNegativeInt = 12  # then small edits at the lines a Python failure points to (an off-by-one
    # bound, `<` for `<=`, a missing return: sleepy.tasks.pyrepair), each verified; only a passing one counts.
    # A project's verification runs its tests, so a project task tries at most PROJECT_REPAIRS of them
    samples: PositiveInt = 1  # per attempt
    copy_anchors: bool = True  # constrained decoding: an edit's '-' lines can only be text of the program
    # (sleepy.model.constrain); the tiny model otherwise writes anchors from habit
    copy_names: bool = True  # constrained decoding: a name in a '+' line must be in the prompt or in the model's
    # names.json (names its training edits introduced); the tiny model otherwise misspells names it copies
    memory: bool = True
    memory_from_attempt: PositiveInt = 2  # recalled fixes enter prompts from this attempt on: the tiny model blends a
    # recalled fix's names into its first edit (benchmarks/results/day_reuse_rust*.json: from attempt 1 memory
    # loses 28 tasks and wins 4 of 400; from attempt 2 it loses 0 and wins 2)
    memory_patterns: NonNegativeInt = 4  # before the model's first try, apply this many patterns of recalled fixes
    # (sleepy.memory.patterns; each fix is generalised when it is stored) and verify the programs; 0: off
    min_failures: PositiveInt = 3  # a signature needs this many failed episodes to get a skill
    gate_seeds: PositiveInt = 3
    holdout_per_family: NonNegativeInt = 10
    lora_steps: PositiveInt = 40
    max_skills: PositiveInt = 3  # per night
    self_replay: NonNegativeInt = 0  # replay this many of the model's own verified fixes per other signature (0: off)
    teacher_url: str | None = None  # OpenAI-compatible endpoint asked for fixes at night (verified before use)
    teacher_api_key_env: str | None = None  # environment variable holding the teacher's API key (never the key)
    backend: Literal["local", "openai"] = "local"  # where the day generates: local weights (model) or an
    # OpenAI-compatible server at base_url serving model by that name (sleepy.model.remote)
    base_url: str | None = None  # the server of the openai backend, e.g. http://127.0.0.1:8000/v1
    api_key_env: str | None = None  # environment variable holding that server's API key (never the key itself)
    weights: str | None = None  # local weights (folder or hub id) a night trains skills on; needed with the
    # openai backend, whose model is only a name on a server
    strategy: Literal["routed", "naive", "averaged"] = "routed"  # naive/averaged: the baselines routing beats
    lora_rank: PositiveInt = 8
    train_processes: PositiveInt = 1  # processes (GPUs) per skill's training, via accelerate launch
    skills: Literal["auto", "share", "lora"] = "auto"  # routed skill kind; auto = share once a basis exists
    share_k: PositiveInt = 16  # basis components per module and side (capped at the directions the skills hold);
    # 16 in float16 keeps 20 skills within 2x one rank-8 LoRA (benchmarks/results/forgetting_rust_3x3.json);
    # share_k and share_dtype take effect when a night builds or merges a basis
    share_dtype: Literal["float32", "float16", "bfloat16"] = "float16"  # basis and coefficient files
    share_extra_vectors: NonNegativeInt = 0  # temporary basis vectors a new share skill may add (folded in by a merge);
    # each costs about a rank-1 LoRA, so the default keeps a new skill at coefficients only (~0.3% of rank-8 LoRA)
    canary: Annotated[float, Field(ge=0, lt=1)] = 0.0  # fraction of day tasks run on `candidate` (0: no canary);
    # a sequential test per signature then promotes, keeps or drops it (sleepy.loop.rollout)
    auto_rollback: bool = True  # after a promotion the day watches production per signature and moves it back
    # on a significant drop (sleepy.loop.rollout); false: the drop is reported, production stays

    @property
    def pretrain_dir(self) -> Path:
        return self.workspace / "pretrain"

    @property
    def evals_dir(self) -> Path:
        return self.workspace / "evals"

    @property
    def registry_dir(self) -> Path:
        return self.workspace / "registry"

    @property
    def store_url(self) -> str:
        """The store as a URL (the workspace default spelled out); ConfigError for an unknown scheme."""
        url = self.store or SQLITE_PREFIX + str(self.workspace / "sleepy.db")
        store_kind(url)
        return url

    @property
    def store_path(self) -> Path:
        """The SQLite file; a PostgreSQL store has none (open either with ``open_store``)."""
        url = self.store_url
        if store_kind(url) != "sqlite":
            raise ConfigError("the store is a PostgreSQL database, not a file: it has no store_path")
        return Path(url.removeprefix(SQLITE_PREFIX))


def load_settings(workspace: Path | None = None, **overrides) -> Settings:
    """Settings for ``workspace``: its ``config.toml`` (if any) under the given overrides."""
    ws = workspace or DEFAULT_WORKSPACE
    values: dict = {}
    path = ws / "config.toml"
    if path.is_file():
        try:
            values = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML ({exc})") from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    values["workspace"] = ws
    try:
        return Settings(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(map(str, first["loc"]))
        where = "the command line" if field in overrides and overrides[field] is not None else str(path)
        raise ConfigError(f"{where}: {field} = {first.get('input')!r}: {first['msg']}") from None
