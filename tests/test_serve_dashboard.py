"""``sleepy serve`` over a real release with a real LoRA skill: streaming, batching, routing, feedback,
the request log, and the dashboard driven by headless Chromium."""

import json
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import pytest
from conftest import needs_rustc
from test_serve_teacher import post, running_server

from sleepy.adapters.lora import LoraParams, TrainExample, train_lora
from sleepy.adapters.registry import BASE, Registry, SkillInfo
from sleepy.loop.cycle import CycleResult, NightRow
from sleepy.model.loader import model_hash
from sleepy.tasks.edit import END, diff_to_edit
from sleepy.tasks.packs import get_pack
from sleepy.tasks.verify import verify

SIGNATURE = "py:NameError:name-is-not-defined"


def a_task(seed: int):
    """A generated Python task whose bug raises NameError (the skill's signature)."""
    pack = get_pack("python")
    for s in range(seed, seed + 200):
        task = pack.generate("name-import", s)
        if task.signature == SIGNATURE:
            return task
    raise AssertionError("no NameError task in 200 seeds")


@pytest.fixture(scope="module")
def workspace(micro, tmp_path_factory):
    """A workspace whose production release has one LoRA skill, and a finished two-night cycle."""
    root, _ = micro
    base = str(root / "model")
    ws = tmp_path_factory.mktemp("served")
    tasks = [a_task(s * 300) for s in range(3)]
    examples = [TrainExample(f"### task python\n### code\n{t.source}### edit\n",
                             diff_to_edit(t.source, t.fix).render() + END, "reference", t.id, SIGNATURE)
                for t in tasks]
    staging = ws / "staging"
    training = train_lora(base, examples, LoraParams(steps=2, rank=4, alpha=8), staging / "skills" / "s1")
    reg = Registry(ws / "registry")
    release = reg.create(staging, base, model_hash(base), {SIGNATURE: "s1"},
                         [SkillInfo("s1", "lora", [SIGNATURE], "skills/s1", training.trainable_parameters)], None)
    reg.promote(release.id, "test: a release with one skill")
    families = {"frozen/k1": "name-import", "frozen/k2": "logic", "holdout/h1": "name-import"}
    cycle = CycleResult("python", 1, "sleepy cycle", [
        NightRow(0, BASE, results={"frozen/k1": True, "frozen/k2": False, "holdout/h1": False}, families=families),
        NightRow(1, release.id, promoted=True, results={"frozen/k1": True, "frozen/k2": True, "holdout/h1": True},
                 families=families)], ["name-import"])
    (ws / "cycle").mkdir()
    (ws / "cycle" / "cycle.json").write_text(json.dumps(asdict(cycle)))
    return ws, base, release


@pytest.fixture(scope="module")
def server(workspace):
    ws, base, _ = workspace
    with running_server(base, ws) as url:
        yield url


def stream(url: str, body: dict) -> list[dict]:
    req = urllib.request.Request(url, data=json.dumps(body | {"stream": True}).encode(),
                                 headers={"Content-Type": "application/json"})
    chunks, done = [], False
    with urllib.request.urlopen(req, timeout=60) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        for raw in resp:
            line = raw.decode().strip()
            if not line:
                continue
            assert line.startswith("data: ")
            if line == "data: [DONE]":
                done = True
                continue
            chunks.append(json.loads(line.removeprefix("data: ")))
    assert done, "the stream did not end with [DONE]"
    return chunks


def test_models_list_base_and_skills(server):
    ids = [m["id"] for m in json.loads(urllib.request.urlopen(f"{server}/v1/models").read())["data"]]
    assert ids == ["sleepy", "sleepy:s1"]


def test_streamed_chat_equals_the_plain_answer(server):
    body = {"messages": [{"role": "user", "content": "### task python\n### code\n1| x = 1\n### edit\n"}],
            "max_tokens": 24}
    status, plain = post(f"{server}/v1/chat/completions", body)
    assert status == 200
    chunks = stream(f"{server}/v1/chat/completions", body)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == plain["choices"][0]["message"]["content"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["usage"] == plain["usage"]


def test_streamed_completion_equals_the_plain_answer(server):
    body = {"prompt": "### task rust\n### code\n1| fn main() {}\n### edit\n", "max_tokens": 16}
    status, plain = post(f"{server}/v1/completions", body)
    chunks = stream(f"{server}/v1/completions", body)
    assert status == 200 and "".join(c["choices"][0]["text"] for c in chunks) == plain["choices"][0]["text"]


def test_concurrent_requests_share_batches_and_answer_like_one_at_a_time(server, workspace):
    prompts = [f"### task python\n### code\n1| value_{i} = {i}\n### edit\n" for i in range(8)]
    alone = [post(f"{server}/v1/completions", {"prompt": p, "max_tokens": 12})[1]["choices"][0]["text"]
             for p in prompts]
    together: dict[int, str] = {}

    def ask(i: int) -> None:
        answer = post(f"{server}/v1/completions", {"prompt": prompts[i], "max_tokens": 12})[1]
        together[i] = answer["choices"][0]["text"]

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [together[i] for i in range(8)] == alone
    ws, _, _ = workspace
    events = [json.loads(x) for x in (ws / "serve" / "requests.jsonl").read_text().splitlines()]
    assert max(e.get("sleepy.batch.size") or 0 for e in events) > 1, "no two requests ever shared a batch"


def test_routing_by_model_name_skill_signature_prompt_and_fallback(server):
    def route(body: dict) -> dict:
        status, answer = post(f"{server}/v1/completions", {"prompt": "x", "max_tokens": 2} | body)
        assert status == 200, answer
        return answer["sleepy"]

    assert route({"model": "sleepy:s1"}) == route({"sleepy": {"skill": "s1"}}) | {"route": "model-name"}
    assert route({"sleepy": {"signature": SIGNATURE}})["skill"] == "s1"
    by_prompt = route({"prompt": "### task python\n### error\nNameError: name 'tota' is not defined\n 3:1\n"
                                 "### code\n1| print(tota)\n### edit\n"})
    assert (by_prompt["skill"], by_prompt["route"], by_prompt["signature"]) == ("s1", "prompt", SIGNATURE)
    assert route({"sleepy": {"signature": "py:KeyError"}}) | {"signature": None} == {
        "skill": None, "route": "base", "signature": None, "episode_id": None, "verified": None, "fix_id": None}
    status, answer = post(f"{server}/v1/completions", {"prompt": "x", "sleepy": {"skill": "nope"}})
    assert status == 404 and "no skill 'nope'" in answer["error"]["message"]


def test_feedback_verifies_corrections_before_memory(server, workspace):
    ws, _, _ = workspace
    task = a_task(5000)
    status, answer = post(f"{server}/v1/chat/completions", {
        "messages": [{"role": "user", "content": "fix it"}], "max_tokens": 16,
        "sleepy": {"program": task.source, "pack": "python"}})
    assert status == 200
    meta = answer["sleepy"]
    assert meta["episode_id"] and meta["route"] == "program" and meta["skill"] == "s1"
    assert meta["signature"] == SIGNATURE
    rid = answer["id"]
    wrong = task.source.replace("assert", "assert 1 == 2 and", 1)
    status, refused = post(f"{server}/v1/sleepy/feedback", {"response_id": rid, "signal": "corrected",
                                                            "program": wrong})
    assert status == 422 and "does not pass" in refused["error"]["message"]
    status, stored = post(f"{server}/v1/sleepy/feedback", {"response_id": rid, "signal": "corrected",
                                                           "program": task.fix})
    assert status == 200 and stored["fix_id"]
    from sleepy.memory.sqlite import SQLiteStore

    store = SQLiteStore(ws / "sleepy.db")
    fix = store.fixes([stored["fix_id"]])[0]
    assert fix.provenance == "human" and verify(task, fix.after).passed
    store.close()
    status, rejected = post(f"{server}/v1/sleepy/feedback", {"response_id": rid, "signal": "rejected"})
    assert status == 200 and rejected["recorded"] and rejected["fix_id"] is None
    status, missing = post(f"{server}/v1/sleepy/feedback", {"response_id": "cmpl-nope", "signal": "accepted"})
    assert status == 404
    status, plain = post(f"{server}/v1/completions", {"prompt": "x", "max_tokens": 2})
    status, no_task = post(f"{server}/v1/sleepy/feedback", {"response_id": plain["id"], "signal": "corrected",
                                                            "program": task.fix})
    assert status == 409 and "no sleepy.program" in no_task["error"]["message"]
    status, bad = post(f"{server}/v1/sleepy/feedback", {"response_id": rid, "signal": "meh"})
    assert status == 400


@needs_rustc
def test_a_task_request_gets_the_agent_s_treatment_tools_first_then_the_model_on_the_agent_s_prompt(tmp_path):
    """A request with a program: the verifier's hints are tried first (a passing one answers, no model call);
    otherwise the model sees the prompt the agent builds (not the client's words) and decodes as the day
    does (anchors from the program); the reply carries the verified program and what solved it."""
    from fastapi.testclient import TestClient
    from test_constrain import SOURCE

    from sleepy.adapters.lora import RoutedModel
    from sleepy.context.prompt import ContextBuilder
    from sleepy.loop.agent import PROMPT_BUDGET
    from sleepy.model.generation import GenerationConfig, generate
    from sleepy.model.loader import load_model
    from sleepy.serve import ServeContext, create_app
    from sleepy.tasks.task import Task

    lm = load_model()
    client = TestClient(create_app(ServeContext(RoutedModel(lm, None), tmp_path)), base_url="http://127.0.0.1")
    for stream in (False, True):
        answer = client.post("/v1/chat/completions", json={
            "messages": [{"role": "user", "content": "fix it"}], "max_tokens": 40, "stream": stream,
            "sleepy": {"program": SOURCE, "pack": "rust"}})
        assert answer.status_code == 200
        if stream:
            chunks = [json.loads(line[6:]) for line in answer.text.splitlines()
                      if line.startswith("data: {")]
            meta, text = chunks[-1]["sleepy"], "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
        else:
            meta, text = answer.json()["sleepy"], answer.json()["choices"][0]["message"]["content"]
            assert answer.json()["usage"]["completion_tokens"] == 0  # no model call
        assert meta["solved_by"] == "tool" and meta["origin"] == "tool:rustc" and meta["verified"]
        assert meta["signature"] == "rust:E0382:borrow-of-moved-value" and meta["signature_after"] is None
        assert verify(Task("x", "rust", "x", SOURCE), meta["program"]).passed and text.startswith("@@ ")

    # a Python failure no hint spells out: the day's repairs at its lines answer it, as in a day's step
    off_by_one = ("def pair_sums(xs):\n    out = []\n    for i in range(len(xs)):\n"
                  "        out.append(xs[i] + xs[i + 1])\n    return out\n\n\nassert pair_sums([1, 2, 4]) == [3, 6]\n")
    meta = client.post("/v1/completions", json={"prompt": "fix", "max_tokens": 8, "sleepy": {
        "program": off_by_one, "pack": "python"}}).json()["sleepy"]
    assert meta["solved_by"] == "tool" and meta["origin"] == "tool:repair" and meta["verified"], meta
    assert verify(Task("p", "python", "x", off_by_one), meta["program"]).passed

    stuck = "fn main() {\n    let x: i32 = \"seven\";\n    println!(\"{}\", x);\n}\n"
    diag = verify(Task("s", "rust", "x", stuck)).primary
    prompt = ContextBuilder(lm.count_tokens, budget=PROMPT_BUDGET).for_task(Task("s", "rust", "x", stuck), stuck,
                                                                            diag).text
    cfg = GenerationConfig(max_new_tokens=40, batch_size=1)
    day = generate(lm, [prompt], cfg, sources=[stuck])[0][0].text
    answer = client.post("/v1/completions", json={"prompt": "please fix", "max_tokens": 40,
                                                  "sleepy": {"program": stuck, "pack": "rust"}}).json()
    assert answer["choices"][0]["text"] == day  # the agent's prompt, decoded as the day decodes
    assert answer["usage"]["prompt_tokens"] > 50 and answer["sleepy"]["origin"] == "model"
    assert answer["sleepy"]["solved_by"] in (None, "model") and "signature_after" in answer["sleepy"]


def test_every_request_is_a_wide_event(server, workspace):
    ws, _, _ = workspace
    log = ws / "serve" / "requests.jsonl"
    before = len(log.read_text().splitlines()) if log.is_file() else 0
    post(f"{server}/v1/completions", {"prompt": "### task rust\n", "max_tokens": 3})
    stream(f"{server}/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 3})
    events = [json.loads(x) for x in log.read_text().splitlines()][before:]
    assert [e["sleepy.stream"] for e in events] == [False, True]
    for e in events:
        assert e["gen_ai.usage.input_tokens"] > 0 and e["gen_ai.response.id"] and "sleepy.latency.generate_s" in e


def _chromium():
    for browser in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(browser):
            driver = shutil.which("chromedriver") or "/usr/lib/chromium/chromedriver"
            if Path(driver).is_file():
                return path, driver
    return None


needs_chromium = pytest.mark.skipif(_chromium() is None, reason="headless Chromium and chromedriver are not "
                                   "installed (apt-get install chromium chromium-driver; .ci/run installs them)")


@contextmanager
def headless_chromium():
    """A headless Chromium driven by selenium, quit afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = _chromium()
    options = Options()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@needs_chromium
def test_dashboard_in_headless_chromium(server, workspace):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    ws, _, release = workspace
    task = a_task(7000)
    post(f"{server}/v1/completions", {"prompt": "fix", "max_tokens": 4,
                                      "sleepy": {"program": task.source, "pack": "python"}})
    with headless_chromium() as driver:
        driver.get(server + "/")
        wait = WebDriverWait(driver, 30)
        wait.until(lambda d: d.find_element(By.ID, "production").text == release.id)
        heatmap = driver.find_element(By.ID, "heatmap")
        assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", heatmap) > 100
        assert driver.find_element(By.ID, "pass-rate-frozen").get_attribute("naturalWidth") not in (None, "0")
        rows = driver.find_elements(By.CSS_SELECTOR, "#episodes tr")
        assert len(rows) >= 2, "the episode browser lists no episode"
        driver.find_element(By.CSS_SELECTOR, "button.rollback[data-to='base']").click()
        wait.until(expected_conditions.alert_is_present())
        driver.switch_to.alert.accept()
        wait.until(lambda d: d.find_element(By.ID, "production").text == "base")
        wait.until(lambda d: "rollback from the dashboard" in d.find_element(By.CSS_SELECTOR, "#timeline tr.move").text)
        newest = driver.find_element(By.CSS_SELECTOR, "#timeline tr.move")  # the timeline says who moved it, and why
        assert newest.get_attribute("class") == "move manual" and "dashboard" in newest.text
    cli = subprocess.run([sys.executable, "-m", "sleepy.cli", "releases", "-w", str(ws), "--json"],
                         capture_output=True, text=True, check=True)
    seen = json.loads(cli.stdout)
    assert seen["aliases"]["production"] == BASE
    assert seen["history"][-1]["who"] == "dashboard" and seen["history"][-1]["from"] == release.id
    # the server follows production: the rolled-back release answers at once, without a restart
    assert _serving(server) == (BASE, ["sleepy"])
    status, answer = post(f"{server}/v1/completions", {"prompt": "fix", "max_tokens": 2, "model": "sleepy:s1"})
    assert status == 404
    # a promotion from another process (the CLI) reaches the server within a few polls
    subprocess.run([sys.executable, "-m", "sleepy.cli", "promote", release.id, "-w", str(ws)], check=True,
                   capture_output=True)
    deadline = time.time() + 30
    while _serving(server)[0] != release.id and time.time() < deadline:
        time.sleep(0.3)
    assert _serving(server) == (release.id, ["sleepy", "sleepy:s1"])


def _serving(url: str) -> tuple[str, list[str]]:
    stats = json.loads(urllib.request.urlopen(f"{url}/v1/sleepy/stats").read())
    ids = [m["id"] for m in json.loads(urllib.request.urlopen(f"{url}/v1/models").read())["data"]]
    return stats["release"], ids


def test_follower_skips_a_release_that_does_not_load_and_batches_never_mix_weights(workspace, tmp_path):
    from sleepy.adapters.lora import load_release_model
    from sleepy.model.generation import GenerationConfig
    from sleepy.serve.batcher import Batcher, Job, SkillGone
    from sleepy.serve.follow import ReleaseFollower

    ws, base, release = workspace
    shutil.copytree(ws / "registry", tmp_path / "registry")
    reg = Registry(tmp_path / "registry")
    reg.promote(release.id, "test")
    served = []
    base_model = load_release_model(None, base, "cpu")
    batcher = Batcher(base_model, max_batch=2)
    follower = ReleaseFollower(reg, "production", "cpu", base_model, lambda m: (served.append(m),
                                                                                setattr(batcher, "model", m)))
    assert follower.check() and follower.serving == release.id and served[-1].name == release.id
    # a release's skills may write the names their training edits introduced (constrained decoding)
    from sleepy.adapters.lora import load_examples
    from sleepy.model.constrain import introduced_names
    taught = introduced_names(("python", e.prompt, e.completion) for e in load_examples(release.folder / "skills/s1"))
    assert taught["python"] and set(taught["python"]) <= served[-1].lm.introduced["python"]
    assert not follower.check()  # nothing moved
    # a request routed to s1 while a release without it is swapped in fails with a reason, not a crash
    reg.rollback(BASE, "test")
    assert follower.check() and batcher.model.name == BASE
    with pytest.raises(SkillGone, match="s1"):
        batcher.submit(Job("### task python\n", GenerationConfig(max_new_tokens=2), "s1")).result(timeout=60)
    # a corrupted release is refused: the server keeps the weights it has, and tries it only once
    reg.move("production", release.id, "test: a release corrupted after it was promoted")
    (reg.releases_dir / release.id / "skills" / "s1" / "adapter_model.safetensors").write_bytes(b"tampered")
    assert not follower.check() and follower.failed == release.id and batcher.model.name == BASE
    assert not follower.check() and len(served) == 2
    done = batcher.submit(Job("### task python\n", GenerationConfig(max_new_tokens=2), None)).result(timeout=60)
    assert done[0].release == BASE


def test_export_writes_peft_adapters_that_reproduce_sleepys_outputs(workspace, tmp_path):
    import torch
    from peft import PeftModel

    from sleepy.adapters.lora import load_release_model
    from sleepy.model.loader import load_model

    ws, base, release = workspace
    out = tmp_path / "export"
    subprocess.run([sys.executable, "-m", "sleepy.cli", "export", "--release", release.id, str(out), "-w", str(ws)],
                   check=True, capture_output=True)
    router = json.loads((out / "router.json").read_text())
    assert router["router"] == {SIGNATURE: "s1"} and (out / "base_model.txt").read_text().strip() == base
    assert "--lora-modules s1=" in (out / "README.md").read_text()
    ours = load_release_model(release, base)
    lm = load_model(base, fresh=True)
    theirs = PeftModel.from_pretrained(lm.model, str(out / "skills" / "s1")).eval()
    ids = lm.tokenizer("### task python\n### code\n1| print(tota)\n### edit\n", return_tensors="pt")
    with torch.inference_mode(), ours.using("s1"):
        expected = ours.lm.model(**ids).logits
    with torch.inference_mode():
        got = theirs(**ids).logits
        with theirs.disable_adapter():
            plain = theirs(**ids).logits
    assert torch.allclose(expected, got, atol=1e-5)
    assert not torch.allclose(got, plain)  # the skill changes the model: the comparison can fail
    code = subprocess.run([sys.executable, "-m", "sleepy.cli", "export", "--release", "nope", str(tmp_path / "x"),
                           "-w", str(ws)], capture_output=True, text=True)
    assert code.returncode != 0 and "Traceback" not in code.stderr


def test_a_client_that_disconnects_mid_stream_stops_its_generation(server, workspace):
    import http.client
    from urllib.parse import urlparse

    before = json.loads(urllib.request.urlopen(f"{server}/v1/sleepy/stats").read())["cancelled"]
    where = urlparse(server)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    conn.request("POST", "/v1/completions", json.dumps({"prompt": "### task rust\n", "max_tokens": 900,
                                                        "stop": ["<never-said>"], "stream": True}),
                 {"Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 200 and resp.readline().startswith(b"data: ")
    conn.close()  # the client goes away mid-stream
    deadline = time.time() + 30
    while time.time() < deadline:
        stats = json.loads(urllib.request.urlopen(f"{server}/v1/sleepy/stats").read())
        if stats["cancelled"] > before:
            break
        time.sleep(0.2)
    assert stats["cancelled"] == before + 1, stats
    status, answer = post(f"{server}/v1/completions", {"prompt": "x", "max_tokens": 2})
    assert status == 200  # the worker moved on
    ws, _, _ = workspace
    events = [json.loads(x) for x in (ws / "serve" / "requests.jsonl").read_text().splitlines()]
    assert any(e.get("sleepy.cancelled") for e in events)


def test_the_openai_client_works_unchanged(server):
    openai = pytest.importorskip("openai", reason="the openai package is a dev dependency")
    client = openai.OpenAI(base_url=f"{server}/v1", api_key="not-needed")
    assert [m.id for m in client.models.list()][:1] == ["sleepy"]
    reply = client.chat.completions.create(model="sleepy", messages=[{"role": "user", "content": "### task rust\n"}],
                                           max_tokens=6)
    assert reply.choices[0].message.role == "assistant" and reply.usage.total_tokens > 0
    pieces = client.chat.completions.create(model="sleepy:s1", max_tokens=6, stream=True,
                                            messages=[{"role": "user", "content": "### task python\n"}])
    streamed = "".join(c.choices[0].delta.content or "" for c in pieces if c.choices)
    plain = client.chat.completions.create(model="sleepy:s1", max_tokens=6,
                                           messages=[{"role": "user", "content": "### task python\n"}])
    assert streamed == plain.choices[0].message.content
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])


def test_a_stream_routed_to_a_skill_that_a_swap_removed_says_release_changed_and_shutdown_stops_threads(
        workspace, tmp_path):
    """The race the follower opens: a streamed request routed to s1 waits behind a running batch while
    production rolls back to base. It must end with an in-band ``release_changed`` error (the client can
    retry), not a server error; and leaving the app stops the worker and follower threads."""
    from fastapi.testclient import TestClient

    from sleepy.adapters.lora import load_release_model
    from sleepy.model.generation import GenerationConfig
    from sleepy.serve import ServeContext, create_app
    from sleepy.serve.batcher import Closed, Job

    ws, base, release = workspace
    shutil.copytree(ws / "registry", tmp_path / "registry")
    reg = Registry(tmp_path / "registry")
    reg.promote(release.id, "test")
    ctx = ServeContext(load_release_model(reg.get(release.id), base, "cpu"), tmp_path, registry=reg,
                       follow="production", follow_interval_s=3600)
    holding, release_worker = threading.Event(), threading.Event()

    def hold(_delta) -> None:  # a streamed job whose client is slow: the worker waits inside its batch
        holding.set()
        release_worker.wait(60)

    replies: list = []
    with TestClient(create_app(ctx), base_url="http://127.0.0.1") as client:  # the Host check wants a bound name
        batcher = client.app.state.batcher
        blocker = batcher.submit(Job("### task python\n", GenerationConfig(max_new_tokens=2), None, on_delta=hold))
        assert holding.wait(60)
        body = {"model": "sleepy:s1", "stream": True, "max_tokens": 4,
                "messages": [{"role": "user", "content": "### task python\n"}]}
        asker = threading.Thread(target=lambda: replies.append(client.post("/v1/chat/completions", json=body)))
        asker.start()
        deadline = time.time() + 60
        while batcher.queue.qsize() < 1 and time.time() < deadline:
            time.sleep(0.01)
        assert batcher.queue.qsize() == 1, "the streamed request never reached the batcher"
        reg.rollback(BASE, "test: production rolls back while a request for s1 waits")
        assert ctx.follower.check() and batcher.model.name == BASE
        release_worker.set()
        blocker.result(timeout=60)
        asker.join(60)
        events = [json.loads(line.removeprefix("data: ")) for line in replies[0].text.splitlines() if line]
        assert events[-1]["error"]["code"] == "release_changed" and "s1" in events[-1]["error"]["message"]
        # the batcher still serves after the race
        assert client.post("/v1/completions", json={"prompt": "### task python\n", "max_tokens": 2}).status_code == 200
        worker, poller = batcher._thread, ctx.follower._thread
    assert not worker.is_alive() and not poller.is_alive()
    with pytest.raises(Closed):
        batcher.submit(Job("### task python\n", GenerationConfig(max_new_tokens=2), None))


def test_requests_still_queued_at_shutdown_fail_with_a_reason(micro):
    from sleepy.adapters.lora import load_release_model
    from sleepy.model.generation import GenerationConfig
    from sleepy.serve.batcher import Batcher, Closed, Job

    root, _ = micro
    batcher = Batcher(load_release_model(None, str(root / "model"), "cpu"))
    holding, release_worker = threading.Event(), threading.Event()
    running = batcher.submit(Job("### task rust\n", GenerationConfig(max_new_tokens=2), None,
                                 on_delta=lambda _d: (holding.set(), release_worker.wait(60))))
    assert holding.wait(60)
    queued = batcher.submit(Job("### task rust\n", GenerationConfig(max_new_tokens=2), None))
    closer = threading.Thread(target=batcher.close)
    closer.start()
    deadline = time.time() + 60
    while not batcher._closed.is_set() and time.time() < deadline:
        time.sleep(0.001)
    release_worker.set()
    closer.join(60)
    assert running.result(timeout=60)[0].completion.output_tokens >= 0  # the running batch finishes
    with pytest.raises(Closed, match="shutting down"):
        queued.result(timeout=60)
    assert not batcher._thread.is_alive()


def test_rollout_timeline_canary_figures_and_a_rollback_the_server_follows(micro, tmp_path):
    """Real moves by each mover (the night's gate, the canary and the monitor deciding on outcomes, the
    dashboard), then the page's JSON: each move's kind and key evidence, the running canary's tasks and passes
    per release, and a rollback posted to the server, which then serves the release it moved to."""
    from test_canary import SIGS, even, outcomes, release

    from sleepy.loop.gate import GateDecision
    from sleepy.loop.night import _metrics
    from sleepy.loop.rollout import Outcome, Rollout, events_path
    from sleepy.telemetry.events import EventLog

    root, _ = micro
    base = str(root / "model")
    ws = tmp_path / "ws"
    reg = Registry(ws / "registry")
    a, b = (release(reg, tmp_path, n, base_model=base) for n in "ab")
    gate = _metrics(GateDecision(True, "no regressions, 3 task(s) improved", [], ["h/1", "h/2", "h/3"],
                                 {"frozen": 10, "holdout": 20}, {"frozen": 11, "holdout": 22},
                                 {"frozen": 48, "holdout": 60})) | {"canary": 0.5}
    log = EventLog(events_path(ws))
    reg.move("candidate", a, "night: 1 skill(s) trained, gated: no regressions, 3 task(s) improved; handed to "
                             "the canary", gate)
    canary = Rollout(reg, outcomes(BASE, even(0.5), 120, 1, "before"), 0.5, events=log)
    for i in range(0, 400, 8):  # a is better everywhere: the canary promotes it
        canary.observe([Outcome(f"p{j}", SIGS[j % 4], r := canary.release_for(f"p{j}"), (j % 10 < 9) if r == a
                                else j % 2 == 0) for j in range(i, i + 8)])
        if not canary.canary_active:
            break
    assert reg.resolve("production") == a
    for i in range(0, 200, 8):  # ...then breaks one signature in production: the monitor moves it back
        canary.observe(outcomes(a, even(0.9) | {SIGS[2]: 0.0}, 8, 50 + i, "after"))
        if canary.watching is None:
            break
    assert reg.resolve("production") == BASE
    reg.move("candidate", b, "night: 1 skill(s) trained, gated: no regressions, 3 task(s) improved; handed to "
                             "the canary", gate)
    waiting = Rollout(reg, [], 0.5, events=log)
    fed = [Outcome(f"w{j}", SIGS[j % 4], waiting.release_for(f"w{j}"), j % 3 > 0) for j in range(16)]
    waiting.observe(fed)
    waiting.finish()  # undecided (16 tasks): the day's end records its last look
    on_b = [o for o in fed if o.release == b]
    shared = {o.signature for o in on_b} & {o.signature for o in fed if o.release == BASE}  # what the rule pairs

    with running_server(base, ws) as url:
        view = json.loads(urllib.request.urlopen(f"{url}/api/rollout").read())
        moves = view["timeline"]
        assert [(m["kind"], m["alias"]) for m in moves] == [
            ("canary", "candidate"), ("gate", "candidate"), ("monitor", "candidate"), ("monitor", "production"),
            ("canary", "production"), ("gate", "candidate")]
        assert moves[-1]["evidence"] == ("gate: 3 improved, 0 regressed; candidate 33/108 (31%) vs production "
                                         "30/108 (28%); handed to a 50% canary")
        assert re.match(rf"canary promote after \d+ tasks: {a[:12]} \d+/\d+ \([89]\d%\) vs base \d+/\d+ \([3-6]\d%\); "
                        r"P\(worse by > 15%\) 0\.000; worst ", moves[-2]["evidence"]), moves[-2]["evidence"]
        assert moves[3]["evidence"].startswith("monitor rollback") and f"worst {SIGS[2]} 0/" in moves[3]["evidence"]
        assert not moves[0]["moved"] and moves[0]["evidence"].startswith(f"canary keep after {len(on_b)} tasks")
        c = view["canary"]
        assert (c["candidate"], c["production"], c["decision"], c["source"]) == (b, BASE, "keep", "events")
        paired = [o for o in on_b if o.signature in shared]
        assert c["releases"][0] == {"release": b, "role": "candidate", "tasks": len(paired),
                                    "passed": sum(o.passed for o in paired)}
        assert c["releases"][1] == {"release": BASE, "role": "production", "passed": sum(
            o.passed for o in fed if o.release == BASE and o.signature in shared), "tasks": sum(
            o.release == BASE and o.signature in shared for o in fed)}
        assert sorted(s["signature"] for s in c["signatures"]) == sorted(shared)
        page = urllib.request.urlopen(url + "/").read().decode()
        if _chromium() is not None:  # the page draws the same figures (the JSON checks above stand without it)
            from selenium.webdriver.common.by import By
            from selenium.webdriver.support.ui import WebDriverWait

            with headless_chromium() as driver:
                driver.get(url + "/")
                row = WebDriverWait(driver, 30).until(
                    lambda d: d.find_elements(By.CSS_SELECTOR, "#canary-releases tr[data-role='candidate']"))[0]
                assert row.text.startswith(f"{b} candidate {len(paired)} {c['releases'][0]['passed']}/{len(paired)}")
                assert len(driver.find_elements(By.CSS_SELECTOR, "#timeline tr.move")) == 6
                assert driver.find_element(By.ID, "canary").text.startswith(
                    f"canary on {b} against production base: keep after {len(on_b)} tasks on the candidate")

        token = page.split('name="sleepy-token" content="')[1].split('"')[0]
        headers = {"Content-Type": "application/json", "X-Sleepy-Token": token}

        def rollback(body: bytes) -> tuple[int, dict]:
            req = urllib.request.Request(f"{url}/api/rollback", data=body, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=60) as resp:
                    return resp.status, json.loads(resp.read())
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read())

        for bad, status in ((b'{"to": 5}', 400), (b'{"to": "nope"}', 409), (b"[1, 2]", 400), (b"{", 400)):
            assert rollback(bad)[0] == status, bad
        assert reg.resolve("production") == BASE  # nothing moved
        status, moved = rollback(json.dumps({"to": a, "why": "a person looked at the evidence"}).encode())
        assert status == 200 and moved["to"] == a and "now serves" in moved["note"]
        assert _serving(url) == (a, ["sleepy"])  # the server followed, without a restart
        view = json.loads(urllib.request.urlopen(f"{url}/api/rollout").read())
        assert view["timeline"][0]["kind"] == "manual" and view["timeline"][0]["who"] == "dashboard"
        # b's canary evidence was against base: with a in production it no longer stands, and the page says so
        assert view["canary"]["production"] == a and view["canary"]["decision"] == "waiting"
