"""The forgetting benchmark end to end on the micro model: a frozen-weights floor, memory only, and the
Share-averaged baseline, each in its own workspace; the record, the table and the plots."""

import json
import subprocess
import sys

from conftest import needs_rustc
from typer.testing import CliRunner

from sleepy.cli import app


@needs_rustc
def test_bench_forgetting_runs_strategies_side_by_side(micro, tmp_path):
    root, _ = micro
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "config.toml").write_text("min_failures = 1\nlora_steps = 2\ngate_seeds = 1\nholdout_per_family = 1\n"
                                    "max_new_tokens = 8\nattempts = 1\nshare_k = 4\n")
    out = tmp_path / "forgetting.json"
    run = subprocess.run([sys.executable, "-m", "sleepy.cli", "bench", "forgetting", "--pack", "python",
                          "--strategies", "tools,base,memory,share-avg", "--seeds", "1", "--nights", "1", "-n", "4",
                          "--holdout", "1",
                          "--model", str(root / "model"), "-w", str(ws), "--out", str(out)],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    record = json.loads(out.read_text())
    assert [r["strategy"] for r in record["runs"]] == ["tools", "base", "memory", "share-avg"]
    for r in record["runs"]:
        nights = r["cycle"]["nights"]
        assert len(nights) == 2 and set(nights[0]["results"]) == set(nights[1]["results"])
        assert len(r["summary"]["pass_rates"]) == 2
    tools, base = (record["runs"][i]["cycle"]["nights"] for i in (0, 1))
    assert base[0]["results"] == base[1]["results"]  # the floor never moves
    assert tools[0]["results"] == tools[1]["results"]
    # the model runs after the tools: it never loses a task the tools alone solve
    assert all(base[0]["results"][k] for k, ok in tools[0]["results"].items() if ok)
    assert [t["strategy"] for t in record["table"]] == ["tools", "base", "memory", "share-avg"]
    assert {(p["a"], p["b"]) for p in record["paired"]} == {("base", "memory"), ("base", "share-avg"),
                                                            ("tools", "base"), ("tools", "memory"),
                                                            ("tools", "share-avg")}
    assert (tmp_path / "forgetting" / "pass_rate.png").stat().st_size > 1000
    assert (tmp_path / "forgetting" / "heatmap_share-avg.png").is_file()
    # in-process from here (the same command, no interpreter start): what is asked is the answer, not the process
    again = CliRunner().invoke(app, ["bench", "forgetting", "--pack", "python", "--strategies", "base,memory",
                                     "--seeds", "1", "--nights", "1", "-n", "4", "--holdout", "1", "--model",
                                     str(root / "model"), "-w", str(ws), "--out", str(out)])
    assert again.exit_code == 0 and again.output.count("already done") == 2, again.output  # finished runs reused
    bad = CliRunner().invoke(app, ["bench", "forgetting", "--strategies", "magic", "-w", str(ws)])
    assert bad.exit_code != 0 and "unknown strategies" in bad.output, bad.output
    assert isinstance(bad.exception, SystemExit)  # a refusal, not a crash


def test_paired_difference_is_per_task_and_seed_with_an_interval():
    from sleepy.loop.forgetting import paired

    def run(name, seed, results):
        return {"strategy": name, "seed": seed, "cycle": {"nights": [{"results": results}]}}

    runs = [run("base", 1, {"frozen/a": False, "frozen/b": True, "holdout/c": False}),
            run("x", 1, {"frozen/a": True, "frozen/b": True, "holdout/c": False}),
            run("base", 2, {"frozen/a": False, "frozen/b": True, "holdout/c": True}),
            run("x", 2, {"frozen/a": True, "frozen/b": False, "holdout/c": True})]
    both = paired(runs, "base", "x")
    # task a: +1 in both seeds; b: 0 then -1; c: 0 -> mean of per-task means (1 - 0.5 + 0) / 3
    assert both["mean_difference"] == round(0.5 / 3, 4) and both["tasks_better"] == 1 and both["tasks_worse"] == 1
    assert both["ci95"][0] <= both["mean_difference"] <= both["ci95"][1]
    assert paired(runs, "base", "x", "frozen")["tasks"] == 2 and paired(runs, "base", "nope") is None
