"""The OpenAI-compatible server on a real micro model, and its use as another workspace's teacher."""

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

import pytest
from conftest import needs_rustc

from sleepy.adapters.registry import Registry
from sleepy.loop.night import NightConfig, run_night
from sleepy.memory.recall import ExperienceMemory
from sleepy.memory.sqlite import SQLiteStore


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, body) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@contextmanager
def running_server(model: str, workspace):
    """``sleepy serve`` in a subprocess on a free port; yields its URL once it answers, stops it after."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sleepy.cli", "serve", "--port", str(port), "--model", model,
                             "-w", str(workspace)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(f"{url}/v1/models", timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                raise AssertionError(proc.stdout.read().decode()) from None
            time.sleep(0.5)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server(micro, tmp_path_factory):
    root, _ = micro
    with running_server(str(root / "model"), tmp_path_factory.mktemp("serve")) as url:
        yield url


def test_models_and_completions(server):
    models = json.loads(urllib.request.urlopen(f"{server}/v1/models").read())
    assert models["object"] == "list" and models["data"][0]["id"] == "sleepy"
    status, body = post(f"{server}/v1/chat/completions",
                        {"model": "sleepy", "messages": [{"role": "user", "content": "### task rust\n### edit\n"}],
                         "max_tokens": 8})
    assert status == 200 and body["object"] == "chat.completion"
    assert body["usage"]["prompt_tokens"] > 0 and 0 <= body["usage"]["completion_tokens"] <= 8
    status, body = post(f"{server}/v1/completions", {"prompt": "### task python\n", "max_tokens": 4})
    assert status == 200 and body["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize("body, status, needle", [
    (b"{not json", 400, "not valid JSON"),
    ({"model": "gpt-unknown", "messages": [{"role": "user", "content": "x"}]}, 404, "does not exist"),
    ({"messages": "hello"}, 400, "'messages'"),
    ({"messages": [{"role": "user", "content": "x " * 5000}]}, 400, "limit"),
    ({"messages": [{"role": "user", "content": "x"}], "max_tokens": 100000}, 400, "max_tokens must be between"),
    ({"messages": [{"role": "user", "content": "x"}], "max_tokens": -1}, 400, "max_tokens must be between"),
    ({"messages": [{"role": "user", "content": "x"}], "n": 3}, 400, "only n=1"),
    ({"messages": [{"role": "user", "content": "x"}], "stop": [7]}, 400, "'stop'"),
    ({"messages": [{"role": "user", "content": "x"}], "temperature": "hot"}, 400, "must be numbers"),
])
def test_bad_requests_get_openai_error_bodies(server, body, status, needle):
    code, answer = post(f"{server}/v1/chat/completions", body)
    assert code == status and needle in answer["error"]["message"] and "type" in answer["error"]


def test_only_json_bodies_are_accepted(server):
    req = urllib.request.Request(f"{server}/v1/completions", data=b'{"prompt": "x"}',
                                 headers={"Content-Type": "text/plain"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(req, timeout=30)
    assert caught.value.code == 415 and "application/json" in json.loads(caught.value.read())["error"]["message"]


@needs_rustc
def test_a_night_uses_another_workspaces_server_as_teacher(server, micro, tmp_path):
    from sleepy.adapters.lora import LoraParams, RoutedModel
    from sleepy.loop.day import day_tasks, run_day
    from sleepy.loop.episodes import EpisodeConfig
    from sleepy.model.loader import load_model

    root, _ = micro
    store = SQLiteStore(tmp_path / "a.db")
    memory = ExperienceMemory(store)
    run_day(RoutedModel(load_model(str(root / "model")), None), store, memory, day_tasks("python", 4, seed=3),
            EpisodeConfig(attempts=1, max_new_tokens=8), {"t": "teacher"})
    cfg = NightConfig(min_failures=1, max_skills=1, teacher_budget=4, gate_seeds=1, holdout_per_family=1,
                      teacher_url=server, max_new_tokens=12, lora=LoraParams(steps=1, rank=4, alpha=8))
    import sleepy.loop.teacher as teacher_module
    asked = []
    original = teacher_module.Teacher.ask

    def counting(self, prompt):
        answer = original(self, prompt)
        asked.append(answer)
        return answer

    teacher_module.Teacher.ask = counting
    try:
        run_night(store, memory, Registry(tmp_path / "reg"), "python", cfg, str(root / "model"))
    finally:
        teacher_module.Teacher.ask = original
    assert asked, "the night never asked the teacher"
    fixes = [f for sig, in store.db.execute("SELECT DISTINCT signature FROM fixes") for f in store.fixes_for(sig)]
    # whatever the teacher said, only fixes that pass the verifier were stored (re-verified here)
    from sleepy.tasks.packs import regenerate
    from sleepy.tasks.verify import verify

    # the day's own verified fixes (agent) are there too: the tools' repairs solve some of its tasks
    assert fixes and all(f.provenance in ("reference", "teacher", "agent") for f in fixes)
    assert all(verify(regenerate(f.task_id), f.after).passed for f in fixes)
