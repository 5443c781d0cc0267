"""The cycle report and its numbers, from a small hand-made cycle result."""

from sleepy.adapters.lora import ANY, RoutedModel
from sleepy.loop.cycle import CycleResult, NightRow
from sleepy.report.html import summary, write_report


def cycle() -> CycleResult:
    fams = {"frozen/k1": "borrow", "frozen/n1": "traits", "holdout/k2": "borrow", "holdout/n2": "traits"}
    rows = [NightRow(0, "base", results={"frozen/k1": True, "frozen/n1": False, "holdout/k2": True,
                                         "holdout/n2": False}, families=fams),
            NightRow(1, "r1", 30, 12, 10.0, 80.0, True, "ok", 0,
                     results={"frozen/k1": True, "frozen/n1": True, "holdout/k2": False, "holdout/n2": True},
                     families=fams, solved_by={"tool": 1, "skill": 2})]
    return CycleResult("rust", 3, "sleepy cycle", rows, ["borrow"])


def test_summary_numbers():
    s = summary(cycle())
    assert s["pass_rates"] == [{"frozen": 0.5, "holdout": 0.5}, {"frozen": 1.0, "holdout": 0.5}]
    assert s["bwt_known"] == -0.5  # one of two known tasks was forgotten
    assert s["fwt_new"] == 1.0  # both new-family tasks learnt
    assert s["regressions_per_promotion"] == [0] and s["night_seconds"] == [80.0]


def test_report_is_self_contained_html_with_plots(tmp_path):
    path = write_report(cycle(), tmp_path / "report.html")
    text = path.read_text()
    assert text.count("data:image/png;base64,") == 3  # frozen curve, holdout curve, heatmap
    assert "BWT" in text and "sleepy cycle" in text and "<table>" in text
    assert "<td>tool 1, skill 2</td>" in text  # who solved the gate's tasks: what each layer adds


def test_naive_router_catch_all_and_routed_exact_match():
    naive = RoutedModel(None, None)
    naive.router = {ANY: "naive"}
    assert naive.skill_for("rust:E0382:borrow-of-moved-value") == "naive" and naive.skill_for(None) == "naive"
    routed = RoutedModel(None, None)
    routed.router = {"rust:E0106:missing-lifetime-specifier": "lifetimes"}
    assert routed.skill_for("rust:E0106:missing-lifetime-specifier") == "lifetimes"
    assert routed.skill_for("rust:E0382:borrow-of-moved-value") is None
