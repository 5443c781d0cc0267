"""``sleepy day --backend openai``: the day's agent generating through a real OpenAI-compatible server.

The server is a real ``sleepy serve`` on 127.0.0.1 (the micro model, a release with one LoRA skill, an API
key), started here; the day runs as a real ``sleepy`` process against it. What must hold: every model call
of the day is a request the server logged (a routed skill asked for by its adapter name), tools and memory
solve before the model exactly as with local weights, and bad input (no server, a wrong or missing key, a
model the server does not serve, a night with no weights) is one line and exit 2 with nothing written.
"""

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_serve_hardening import KEY, KEY_ENV, serve_process
from test_serve_teacher import free_port
from typer.testing import CliRunner

from sleepy.adapters.lora import LoraParams, TrainExample, train_lora
from sleepy.adapters.registry import Registry, SkillInfo
from sleepy.cli import app
from sleepy.memory.sqlite import SQLiteStore
from sleepy.model.generation import GenerationConfig
from sleepy.model.loader import model_hash
from sleepy.model.remote import Endpoint, RemoteError, RemoteLM, UrllibClient, connect
from sleepy.tasks.edit import END, diff_to_edit
from sleepy.tasks.packs import get_pack

ROUTED = "py:AssertionError"  # the skill's signature: the logic task of the day below reaches the model
SEED, COUNT = 1, 6  # python tasks 1-6 of seed 1: tools (hints, repairs) fix some, the model gets the rest
DAY_CONFIG = 'attempts = 1\nmax_new_tokens = 24\n'


@pytest.fixture(scope="module")
def served(micro, tmp_path_factory):
    """(url, server workspace, base model): ``sleepy serve`` with an API key over a release whose skill s1
    is routed ``py:AssertionError``."""
    root, _ = micro
    base = str(root / "model")
    ws = tmp_path_factory.mktemp("served")
    pack = get_pack("python")
    tasks = [pack.generate("logic", s) for s in range(900, 903)]
    examples = [TrainExample(f"### task python\n### code\n{t.source}### edit\n",
                             diff_to_edit(t.source, t.fix).render() + END, "reference", t.id, ROUTED) for t in tasks]
    staging = ws / "staging"
    training = train_lora(base, examples, LoraParams(steps=2, rank=4, alpha=8), staging / "skills" / "s1")
    reg = Registry(ws / "registry")
    release = reg.create(staging, base, model_hash(base), {ROUTED: "s1"},
                         [SkillInfo("s1", "lora", [ROUTED], "skills/s1", training.trainable_parameters)], None)
    reg.promote(release.id, "test: a release with one skill")
    with serve_process(base, ws, "--no-memory", "--api-key-env", KEY_ENV, env={KEY_ENV: KEY}) as (url, _):
        yield url, ws, base


def day_workspace(served, tmp_path: Path, name: str) -> Path:
    """A day's workspace holding the server's registry (so its production routes as the server's does)."""
    _, server_ws, _ = served
    ws = tmp_path / name
    shutil.copytree(server_ws / "registry", ws / "registry")
    (ws / "config.toml").write_text(DAY_CONFIG)
    return ws


def sleepy(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sleepy.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "COLUMNS": "250", **(env or {})})


def remote_day(url: str, ws: Path, *more: str, model: str = "sleepy", key_env: str | None = KEY_ENV,
               env: dict | None = None) -> subprocess.CompletedProcess:
    keyed = ["--api-key-env", key_env] if key_env else []
    return sleepy("day", "--pack", "python", "-n", str(COUNT), "--seed", str(SEED), "-w", str(ws), "--backend",
                  "openai", "--base-url", url, "--model", model, *keyed, *more, env={KEY_ENV: KEY, **(env or {})})


def served_requests(server_ws: Path) -> list[dict]:
    log = server_ws / "serve" / "requests.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []


def day_events(ws: Path) -> list[dict]:
    """The day's wide events, as ``sleepy events --json`` prints them (read in-process: no interpreter start)."""
    store = SQLiteStore(ws / "sleepy.db")
    try:
        return list(store.events())
    finally:
        store.close()


def runs(ws: Path) -> list[tuple[str, dict]]:
    db = ws / "sleepy.db"
    if not db.is_file():
        return []
    with sqlite3.connect(db) as con:
        return [(kind, json.loads(params)) for kind, params in con.execute("SELECT kind, params FROM runs")]


def first_step_solves(events: list[dict], run_id: int) -> dict[str, str]:
    """task -> origin of the passing candidate, for tasks settled at their first step without the model."""
    return {e["sleepy.task.id"]: e["sleepy.edit.origin"] for e in events
            if e["sleepy.run.id"] == run_id and e["sleepy.attempt"] == 1 and e["sleepy.verifier.passed"]
            and e["sleepy.edit.origin"] != "model"}


def one_line_error(run: subprocess.CompletedProcess) -> str:
    """The refusal: exit 2, exactly one line on stderr, no traceback."""
    lines = run.stderr.strip().splitlines()
    assert run.returncode == 2, (run.returncode, run.stdout, run.stderr)
    assert len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
    return lines[0]


def test_a_day_generates_through_the_server_and_tools_and_memory_still_come_first(served, tmp_path):
    url, server_ws, base = served
    before = len(served_requests(server_ws))
    ws = day_workspace(served, tmp_path, "remote")
    run = remote_day(url, ws)
    assert run.returncode == 0, run.stderr
    assert "generating through sleepy at" in run.stderr and "constrained anchors and names are off" in run.stderr
    (kind, params), = runs(ws)
    assert kind == "day" and params["backend"] == "openai" and params["base_url"] == url + "/v1"

    # every model call of the day is one request the server answered, none for what tools settled
    events = day_events(ws)
    model_calls = [e for e in events if e["sleepy.edit.origin"] == "model"]
    requests = served_requests(server_ws)[before:]
    assert model_calls and len(requests) == len(model_calls)
    assert all(e["gen_ai.request.model"] == "sleepy" for e in events)
    # the routed skill is asked for by its adapter name (sleepy serve's sleepy:<skill>), the rest as the base
    routed = [e for e in model_calls if e["sleepy.signature.before"] == ROUTED]
    assert routed and all(e["sleepy.skill"] == "s1" for e in routed)
    asked = sorted(r["gen_ai.request.model"] for r in requests)
    assert asked == sorted("sleepy:s1" if e["sleepy.skill"] == "s1" else "sleepy" for e in model_calls)
    assert all(r["sleepy.route"] == "model-name" for r in requests if r["gen_ai.request.model"] == "sleepy:s1")

    # tools settle the same tasks as on local weights (they come before the model either way)
    remote_tools = first_step_solves(events, 1)
    assert 1 <= len(remote_tools) < COUNT and all(o.startswith("tool:") for o in remote_tools.values())
    local = day_workspace(served, tmp_path, "local")
    (local / "config.toml").write_text(DAY_CONFIG + 'candidates = ["tool"]\n')  # first steps are the tools' anyway
    run = CliRunner().invoke(app, ["day", "--pack", "python", "-n", str(COUNT), "--seed", str(SEED), "-w",
                                   str(local), "--model", base])  # in-process: the same code, no interpreter start
    assert run.exit_code == 0, run.output
    assert first_step_solves(day_events(local), 1) == remote_tools
    assert len(served_requests(server_ws)) == before + len(requests)  # the local day asked no server

    # memory: the same tasks again with memory before the model (tools off): what the tools fixed is recalled,
    # with no request for it; only the others reach the server
    (ws / "config.toml").write_text(DAY_CONFIG + 'candidates = ["memory", "model"]\n')
    before = len(served_requests(server_ws))
    run = remote_day(url, ws)
    assert run.returncode == 0, run.stderr
    events = [e for e in day_events(ws) if e["sleepy.run.id"] == 2]
    recalled = first_step_solves(events, 2)
    assert recalled.keys() == remote_tools.keys() and all(o.startswith("memory:fix/") for o in recalled.values())
    model_calls = [e for e in events if e["sleepy.edit.origin"] == "model"]
    assert not {e["sleepy.task.id"] for e in model_calls} & recalled.keys()
    assert len(served_requests(server_ws)) - before == len(model_calls) > 0


def test_bad_servers_keys_and_models_are_one_line_and_write_nothing(served, tmp_path):
    url, server_ws, _ = served
    before = len(served_requests(server_ws))
    cases = [
        (dict(url=f"http://127.0.0.1:{free_port()}"), "no server answers at http://127.0.0.1:"),
        (dict(key_env="WRONG_KEY", env={"WRONG_KEY": "not-the-key"}), "refused the API key (401)"),
        (dict(key_env=None), "wants an API key (401): give its key with --api-key-env VAR"),
        (dict(model="gpt-nope"), "does not serve model 'gpt-nope' (it serves: sleepy, sleepy:s1)"),
        (dict(key_env="UNSET_KEY_VAR"), "--api-key-env UNSET_KEY_VAR: that environment variable is not set"),
    ]
    for i, (how, needle) in enumerate(cases):
        ws = day_workspace(served, tmp_path, f"bad{i}")
        run = remote_day(how.pop("url", url), ws, **how)
        assert needle in one_line_error(run), run.stderr
        assert runs(ws) == []  # no run, no episode: nothing to resume or clean up
    assert len(served_requests(server_ws)) == before  # refused at the door: no completion was asked for


def test_a_night_with_the_openai_backend_needs_local_weights(served, tmp_path):
    ws = day_workspace(served, tmp_path, "night")
    line = one_line_error(sleepy("night", "--pack", "python", "-w", str(ws), "--backend", "openai"))
    assert "--weights PATH" in line
    assert runs(ws) == [] and Registry(ws / "registry").aliases() == Registry(served[1] / "registry").aliases()


def test_the_teacher_takes_an_api_key(served, tmp_path, monkeypatch):
    from sleepy.loop.teacher import Teacher, TeacherError

    url, _, _ = served
    monkeypatch.setenv(KEY_ENV, KEY)
    teacher = Teacher(url, api_key_env=KEY_ENV)
    assert teacher.check() == "sleepy"
    assert isinstance(teacher.ask("### task python\n### code\nprint(1)\n### edit\n"), str)
    with pytest.raises(TeacherError, match=r"refused the API key \(401\): give its key with --teacher-api-key-env"):
        Teacher(url, api_key="wrong").ask("x")
    ws = day_workspace(served, tmp_path, "taught")
    line = one_line_error(sleepy("night", "--pack", "python", "-w", str(ws), "--teacher-url", url,
                                 "--teacher-api-key-env", "WRONG_KEY", env={"WRONG_KEY": "nope"}))
    assert line.startswith("error: night aborted, production untouched: teacher: the server at") and "401" in line
    assert runs(ws) == []


def test_both_clients_ask_the_same_and_fail_the_same(served):
    """The ``openai`` package's client and plain ``urllib`` (used where the package is not installed)."""
    pytest.importorskip("openai", reason="the openai package is a dev dependency")
    url, _, _ = served
    ep = Endpoint(url + "/v1", "sleepy", KEY)
    prompt = "### task python\n### code\nprint(sqrt(2))\n### edit\n"
    cfg = GenerationConfig(max_new_tokens=12, n=2)
    via_openai, _ = connect(ep)
    via_urllib, _ = connect(ep, client=UrllibClient(ep))
    a, b = via_openai.lm.generate([prompt], cfg), via_urllib.lm.generate([prompt], cfg)
    assert [c.text for c in a[0]] == [c.text for c in b[0]] and len(a[0]) == 2
    assert a[0][0].input_tokens > 0 and a[0][0].output_tokens == b[0][0].output_tokens
    wrong = Endpoint(url + "/v1", "sleepy", "wrong")
    for client in (None, UrllibClient(wrong)):
        with pytest.raises(RemoteError, match="refused the API key"):
            RemoteLM(wrong, client).generate([prompt], cfg)


def test_a_server_that_takes_the_connection_and_never_answers_is_one_line_in_seconds():
    """A hung server (the port listens, nothing replies): the first look gives up after its timeout, no retry."""
    pytest.importorskip("openai", reason="the openai package is a dev dependency")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        ep = Endpoint(f"http://127.0.0.1:{silent.getsockname()[1]}/v1", "sleepy", timeout_s=1.5)
        for client in (None, UrllibClient(ep)):
            began = time.perf_counter()
            with pytest.raises(RemoteError, match=r"did not answer within 1.5 s"):
                connect(ep, client=client)
            assert time.perf_counter() - began < 10


def test_llama_cpp_server(tmp_path):
    """llama.cpp's server (``llama-cpp-python[server]``) behind the same day, where it is installed."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (building it is too slow here)")
    gguf = os.environ.get("SLEEPY_TEST_GGUF")
    if not gguf:
        pytest.skip("set SLEEPY_TEST_GGUF to a GGUF model file to run llama.cpp's server")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", gguf, "--port", str(port),
                               "--model_alias", "local"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ws = tmp_path / "ws"
        ws.mkdir()
        (ws / "config.toml").write_text(DAY_CONFIG)
        for _ in range(120):
            try:
                connect(Endpoint(f"http://127.0.0.1:{port}/v1", "local"))
                break
            except RemoteError:
                time.sleep(1)
        run = sleepy("day", "--pack", "python", "-n", "2", "-w", str(ws), "--backend", "openai", "--base-url",
                     f"http://127.0.0.1:{port}", "--model", "local")
        assert run.returncode == 0, run.stderr
        assert any(e["sleepy.edit.origin"] == "model" for e in day_events(ws))
    finally:
        server.terminate()
        server.wait(timeout=30)
