"""``sleepy serve --shadow``: each task request is also worked by another release after the live answer, the
verified outcomes are compared per signature, and the shadow's answer never reaches the client.

A real registry with two releases on two real tiny models (production: the micro model pretrained by the
test session; candidate: the bundled model), a real server on 127.0.0.1, real Python tasks (some solved by
the tools, most needing the model)."""

import json
import os
import threading
import time
import urllib.request
from collections import Counter

import pytest
from test_serve_hardening import _browser, serve_process
from test_serve_teacher import post

from sleepy.adapters.registry import Registry
from sleepy.context.prompt import ContextBuilder
from sleepy.loop.agent import PROMPT_BUDGET
from sleepy.model.generation import GenerationConfig, generate
from sleepy.model.loader import load_model, model_hash, resolve
from sleepy.serve.shadow import LiveTraffic, Shadow, ShadowJob, YieldToLive, load_shadow, read_shadow_log
from sleepy.tasks.packs import get_pack
from sleepy.tasks.verify import verify

MAX_TOKENS = 40
# (family, seed) of generated Python tasks: the first two are solved by the interpreter's own hints (no
# model call), the others need the model: neither a hint nor the day's repairs fix them (checked below, so a
# change in the tools cannot hollow the test)
TASKS = [("name-import", 0), ("attribute", 0), ("type-error", 0), ("none-handling", 1), ("index-key", 3),
         ("logic", 0), ("type-error", 3), ("none-handling", 0)]


def tasks():
    pack = get_pack("python")
    return [pack.generate(family, seed) for family, seed in TASKS]


def agent_text(lm, task) -> str:
    """What ``lm`` writes for ``task`` when the agent asks it (the server's prompt and decoding)."""
    diag = verify(task).primary
    prompt = ContextBuilder(lm.count_tokens, budget=PROMPT_BUDGET).for_task(task, task.source, diag).text
    return generate(lm, [prompt], GenerationConfig(max_new_tokens=MAX_TOKENS, batch_size=1),
                    sources=[task.source])[0][0].text


@pytest.fixture(scope="module")
def workspace(micro, tmp_path_factory):
    """production: a release on the micro model; candidate: a release on the bundled model."""
    root, _ = micro
    ws = tmp_path_factory.mktemp("shadowed")
    reg = Registry(ws / "registry")
    micro_model, bundled = str(root / "model"), resolve(None)
    ids = []
    for name, base in (("live", micro_model), ("shadow", bundled)):
        staging = ws / f"staging-{name}"
        staging.mkdir()
        ids.append(reg.create(staging, base, model_hash(base), {}, [], None).id)
    reg.promote(ids[0], "test: production on the micro model")
    reg.move("candidate", ids[1], "test: a candidate on the bundled model")
    return ws, micro_model, ids[0], ids[1]


def wait_for(predicate, timeout_s: float = 240.0, what: str = "the shadow"):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if value := predicate():
            return value
        time.sleep(0.5)
    raise AssertionError(f"{what} did not finish within {timeout_s} s")


def dashboard_shadow(url: str) -> tuple[str, list[str]] | None:
    """The dashboard's shadow figure as headless Chromium renders it: (summary line, table rows); None
    where Chromium is not installed."""
    driver = _browser()
    if driver is None:
        return None
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        driver.get(url + "/")
        WebDriverWait(driver, 60).until(lambda d: "tasks compared" in d.find_element(By.ID, "shadow").text)
        rows = driver.find_elements(By.CSS_SELECTOR, "#shadow-signatures tr")
        return driver.find_element(By.ID, "shadow").text, [r.text for r in rows]
    finally:
        driver.quit()


def test_task_requests_get_the_live_answer_and_each_is_compared_on_the_shadow(workspace):
    ws, micro_model, live_id, shadow_id = workspace
    work = tasks()
    live_lm, shadow_lm = load_model(micro_model, "cpu"), load_model(None, "cpu", fresh=True)
    with serve_process(micro_model, ws, "--shadow", "candidate") as (url, proc):
        answers = []
        for task in work:
            status, answer = post(f"{url}/v1/chat/completions", {
                "messages": [{"role": "user", "content": "fix this"}], "max_tokens": MAX_TOKENS,
                "sleepy": {"program": task.source, "pack": "python"}})
            assert status == 200, answer
            answers.append(answer)
        report = wait_for(lambda: (r := json.loads(urllib.request.urlopen(f"{url}/api/shadow").read())["shadow"])
                          and r["compared"] + r["failed"] >= len(work) and r)
        page = urllib.request.urlopen(f"{url}/").read().decode()
        shown = dashboard_shadow(url)
        episodes = json.loads(urllib.request.urlopen(f"{url}/api/episodes?limit=100").read())["episodes"]
    output = proc.stdout.read().decode()
    assert f"shadow {shadow_id} (candidate)" in output and "--shadow" not in output  # no problem reported

    events = {e["response_id"]: e for e in map(json.loads, (ws / "serve" / "shadow.jsonl").read_text().splitlines())}
    assert set(events) == {a["id"] for a in answers}  # every task request was compared, once
    differed = 0
    for task, answer in zip(work, answers, strict=True):
        meta, text, event = answer["sleepy"], answer["choices"][0]["message"]["content"], events[answer["id"]]
        assert (event["live_release"], event["shadow_release"]) == (live_id, shadow_id)
        assert event["live_passed"] is meta["verified"] and event["signature"] == meta["signature"]
        assert event["error"] is None and isinstance(event["shadow_passed"], bool)
        if meta["solved_by"] == "tool":  # solved before any weights: the same on every release, nothing rerun
            assert (event["decided_by"], event["shadow_passed"], event["shadow_edit"]) == ("tool", True, None)
            continue
        assert meta["origin"] == "model" and event["decided_by"] == "model"
        assert text == agent_text(live_lm, task)  # the live release's own answer, as without a shadow
        assert event["shadow_edit"] == agent_text(shadow_lm, task)  # the shadow really ran the candidate
        if event["shadow_edit"] != text:
            differed += 1
            assert event["shadow_edit"] not in json.dumps(answer)  # the shadow's answer never comes back
    assert sum(a["sleepy"]["solved_by"] == "tool" for a in answers) == 2 and differed >= 3
    # the tally: served live, rebuilt from the log from Python, and on the dashboard
    offline = read_shadow_log(ws / "serve" / "shadow.jsonl").as_dict()
    assert report | {"queued": 0} == offline and report["shadow_release"] == shadow_id
    assert report["compared"] == len(work) and report["dropped"] == report["failed"] == 0
    assert report["live_solved"] == sum(bool(a["sleepy"]["verified"]) for a in answers)
    assert report["shadow_solved"] == sum(e["shadow_passed"] for e in events.values())
    assert sum(r["compared"] for r in report["by_signature"]) == len(work)
    assert {r["signature"] for r in report["by_signature"]} == {a["sleepy"]["signature"] for a in answers}
    assert 'id="shadow"' in page and "/api/shadow" in page
    if shown is not None:  # what a person sees: the figure drawn by the page's own script in headless Chromium
        text, rows = shown
        assert f"shadow {shadow_id}: {len(work)} tasks compared; shadow solved {report['shadow_solved']}, " \
               f"live solved {report['live_solved']}" in text
        assert len(rows) == len(report["by_signature"]) + 1 and report["by_signature"][0]["signature"] in rows[1]
    assert episodes and {e["release"] for e in episodes} == {live_id}  # the shadow stores nothing


@pytest.mark.parametrize("case", ["unknown", "unset alias", "damaged"])
def test_a_shadow_release_that_does_not_load_is_one_line_and_production_still_serves(case, workspace, tmp_path):
    _, micro_model, _, _ = workspace
    reg = Registry(tmp_path / "registry")
    name = {"unknown": "no-such-release", "unset alias": "candidate", "damaged": "candidate"}[case]
    if case == "damaged":  # a candidate whose weights were changed after it was registered
        staging = tmp_path / "staging"
        staging.mkdir()
        (staging / "weights.bin").write_bytes(b"original")
        release = reg.create(staging, micro_model, model_hash(micro_model), {}, [], None)
        reg.move("candidate", release.id, "test")
        (reg.releases_dir / release.id / "weights.bin").write_bytes(b"tampered")
    with serve_process(micro_model, tmp_path, "--shadow", name) as (url, proc):
        task = tasks()[2]
        status, answer = post(f"{url}/v1/chat/completions", {
            "messages": [{"role": "user", "content": "fix"}], "max_tokens": 8,
            "sleepy": {"program": task.source, "pack": "python"}})
        shadow = json.loads(urllib.request.urlopen(f"{url}/api/shadow").read())["shadow"]
    assert status == 200 and answer["sleepy"]["signature"] == task.signature and shadow is None
    lines = [line for line in proc.stdout.read().decode().splitlines() if "--shadow" in line]
    assert len(lines) == 1 and lines[0].startswith(f"--shadow {name}: ") and "serving without a shadow" in lines[0]
    why = {"unknown": "unknown release 'no-such-release'", "unset alias": "no release is named candidate",
           "damaged": "weights.bin"}[case]
    assert why in lines[0], lines[0]
    assert not (tmp_path / "serve" / "shadow.jsonl").exists()


def job_of(task, n: int) -> ShadowJob:
    return ShadowJob(f"r{n}", task, verify(task).primary, GenerationConfig(max_new_tokens=12), "live", False,
                     "model")


def test_shadow_work_waits_for_live_traffic_and_a_full_queue_drops_and_counts(workspace, tmp_path):
    ws, micro_model, _, shadow_id = workspace
    traffic = LiveTraffic()
    shadow = Shadow(load_shadow(Registry(ws / "registry"), "candidate", micro_model, "cpu"),
                    tmp_path / "shadow.jsonl", traffic, max_queue=1)
    try:
        work = [t for t in tasks() if not t.family.startswith(("name", "attribute"))]
        # the worker runs at the lowest CPU priority, and so does what it starts (the verifier's processes)
        wait_for(lambda: shadow.nice is not None, 30, "the worker")
        tid = shadow._thread.native_id
        assert shadow.nice == 19 and os.getpriority(os.PRIO_PROCESS, tid) == 19
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < 19  # the rest of the server is not
        traffic.enter()  # a live request is in flight
        assert shadow.offer(job_of(work[0], 0))
        wait_for(lambda: shadow.queue.qsize() == 0, 30, "the worker")  # taken, and waiting for live traffic
        assert shadow.offer(job_of(work[1], 1))  # fills the queue
        assert not shadow.offer(job_of(work[2], 2)) and not shadow.offer(job_of(work[3], 3))  # dropped at once
        time.sleep(1.5)
        busy = shadow.report()
        assert (busy.compared, busy.dropped, busy.queued) == (0, 2, 1)  # nothing ran while live work was in flight
        traffic.leave()
        done = wait_for(lambda: (r := shadow.report()).compared == 2 and r)
        assert done.shadow_release == shadow_id and done.dropped == 2 and done.queued == 0
        assert {r.signature: r.dropped for r in done.by_signature if r.dropped} == Counter(
            [work[2].signature, work[3].signature])
        events = [json.loads(x) for x in (tmp_path / "shadow.jsonl").read_text().splitlines()]
        assert sorted(e["response_id"] for e in events) == ["r0", "r1", "r2", "r3"]
        assert sum(bool(e.get("dropped")) for e in events) == 2
        assert read_shadow_log(tmp_path / "shadow.jsonl") == done
    finally:
        shadow.close()
    assert not shadow._thread.is_alive()


def test_the_shadow_pauses_between_tokens_while_a_live_request_runs(workspace):
    """A live request that arrives mid-generation stops the shadow at the next token until it is answered."""
    _, micro_model, _, _ = workspace
    lm = load_model(micro_model, "cpu", fresh=True)
    traffic, stop = LiveTraffic(), threading.Event()
    streamer = YieldToLive(traffic, stop)
    traffic.enter()
    result: list = []
    worker = threading.Thread(target=lambda: result.append(
        generate(lm, ["### task python\n### code\n1| x = 1\n### edit\n"], GenerationConfig(max_new_tokens=8,
                                                                                          batch_size=1),
                 streamer=streamer)))
    worker.start()
    worker.join(1.5)
    assert worker.is_alive() and not result  # held at its first token while live work is in flight
    traffic.leave()
    worker.join(60)
    assert result and streamer.paused_s >= 1.0
    held = YieldToLive(traffic, stop)
    traffic.enter()
    stop.set()  # shutting down: a paused generation ends instead of waiting for live traffic
    with pytest.raises(RuntimeError, match="shutting down"):
        generate(lm, ["### task python\n"], GenerationConfig(max_new_tokens=4, batch_size=1), streamer=held)


def test_a_shadowed_alias_is_followed_and_each_release_keeps_its_own_tally(workspace, tmp_path):
    """``--shadow candidate`` on a long-running server: each new candidate is shadowed once the alias moves,
    and its figures start from zero instead of mixing with the last candidate's."""
    _, micro_model, _, _ = workspace
    reg = Registry(tmp_path / "registry")
    staging = tmp_path / "staging"
    staging.mkdir()
    first = reg.create(staging, micro_model, model_hash(micro_model), {}, [], None).id
    reg.move("candidate", first, "test: the first candidate")
    shadow = Shadow(load_shadow(reg, "candidate", micro_model, "cpu"), tmp_path / "shadow.jsonl", max_queue=4,
                    registry=reg, follow="candidate", device="cpu", follow_interval_s=3600)
    try:
        task = tasks()[2]
        assert shadow.release == first and shadow.offer(job_of(task, 0))
        wait_for(lambda: shadow.report().compared == 1)
        staging = tmp_path / "staging-2"
        staging.mkdir()
        (staging / "note.txt").write_text("a second candidate\n")
        second = reg.create(staging, micro_model, model_hash(micro_model), {}, [], None).id
        reg.move("candidate", second, "test: a newer candidate")
        assert shadow.follower.check() and shadow.release == second
        assert shadow.report().compared == 0 and shadow.report(first).compared == 1
        assert shadow.offer(job_of(task, 1))
        wait_for(lambda: shadow.report().compared == 1)
        assert read_shadow_log(tmp_path / "shadow.jsonl").shadow_release == second
        assert read_shadow_log(tmp_path / "shadow.jsonl", first).compared == 1
    finally:
        shadow.close()
    assert not shadow._thread.is_alive() and not shadow.follower._thread.is_alive()
