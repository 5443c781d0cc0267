"""The verdict in plain words, on saved cycle results of real runs, and where the report puts it."""

import json
import re
from pathlib import Path

import pytest
from test_serve_dashboard import _chromium

from sleepy.loop.cycle import CycleResult, NightRow
from sleepy.loop.night import ClusterReport, NightReport
from sleepy.report.html import summary, write_report
from sleepy.report.verdict import cycle_verdict, forgotten, night_verdict, set_counts, transfer

RESULTS = Path(__file__).parent.parent / "benchmarks" / "results"


def saved(name: str) -> CycleResult:
    return CycleResult.load(RESULTS / name)


def forgetting_runs(name: str) -> list[tuple[dict, CycleResult]]:
    """Every (run, its cycle) of a forgetting benchmark record: the cycle dicts are CycleResult's shape."""
    record = json.loads((RESULTS / name).read_text())
    out = []
    for run in record["runs"]:
        data = dict(run["cycle"])
        data["nights"] = [NightRow(**row) for row in data["nights"]]
        out.append((run, CycleResult(**data)))
    return out


def test_routed_cycle_verdict_says_it_learned_and_forgot_nothing():
    result = saved("cycle_rust_seed1_routed.json")
    v = cycle_verdict(result)
    first, last = set_counts(result.nights[0].results), set_counts(result.nights[-1].results)
    assert first["holdout"] == (17, 60) and last["holdout"] == (20, 60)  # counted from the saved matrix
    assert v.sentences[0].startswith("Learned: generated holdout 28.3 % → 33.3 % (+3 tasks; lifetimes 0 % → 20 %")
    assert v.sentences[1] == ("Forgot: nothing (0 regressions). The gate promoted 2 candidates and refused 1 "
                              "(1 regression kept out of production).")
    assert v.sentences[2] == "Hand-written koans: 0 % → 0 %."
    assert "production is now 611061cc4e93e1c9" in v.sentences[3]
    assert v.rows[0] == ["holdout", "60", "28.3 %", "31.7 %", "33.3 %", "33.3 %", "+3"]
    assert v.columns[2:4] == ["night 0\nbase", "night 1\n42f0e51f"]  # release ids, not n0..n3
    assert v.terms[0].startswith("Backward transfer (BWT) 0 pts: ") and "forgot" in v.terms[0]
    assert v.terms[1].startswith("Forward transfer (FWT) +8.3 pts: ")


def test_naive_cycle_verdict_learned_nothing_and_the_gate_held():
    v = cycle_verdict(saved("cycle_rust_seed1_naive.json"))
    assert v.sentences[0] == "Learned: nothing measurable yet (generated holdout 28.3 % → 28.3 %)."
    assert v.sentences[1] == ("Forgot: nothing (0 regressions). The gate promoted 0 candidates and refused 3 "
                              "(18 regressions kept out of production).")
    assert "production is now base" in v.sentences[-1]


def test_verdict_agrees_with_the_report_numbers_on_every_saved_forgetting_run():
    runs = forgetting_runs("forgetting_rust_3x3_tools.json") + forgetting_runs("forgetting_rust_3x3.json")
    assert len(runs) >= 20
    for run, result in runs:
        v, s = cycle_verdict(result), summary(result)
        holdout = next(r for r in v.rows if r[0] == "holdout")
        for night, rates in enumerate(s["pass_rates"]):  # the table's percentages are the summary's rates
            assert holdout[2 + night] == f"{round(100 * rates['holdout'], 1):g} %", run["strategy"]
        bwt, fwt = transfer(result)
        assert abs(bwt - 100 * s["bwt_known"]) < 0.06 and abs(fwt - 100 * s["fwt_new"]) < 0.06  # summary rounds first
        assert v.sentences[0].startswith(("Learned: ", "Lost ground: "))
        assert v.sentences[1].startswith("Forgot: nothing" if not forgotten(result) else "Forgot: ")
        assert not re.search(r"[{}\[\]]", v.text()), v.text()  # words, never a Python printout


def test_night_verdict_promoted_refused_and_idle():
    decision = {"promote": True, "reason": "no regressions, 2 task(s) improved", "regressions": [],
                "improvements": ["holdout/a", "holdout/b"], "production_passes": {"frozen": 2, "holdout": 34},
                "candidate_passes": {"frozen": 2, "holdout": 36}, "tasks": {"frozen": 48, "holdout": 60}}
    rep = NightReport("rust", None, [ClusterReport("rust:E0308:mismatched-types", 5, "rust_E0308", {"reference": 12},
                                                   224256)], "c1", "base", "c1", decision)
    v = night_verdict(rep)
    assert v.sentences[0] == ("Promoted: the candidate c1 against production: generated holdout 56.7 % → 60 % "
                              "(+2 tasks), hand-written koans 4.2 % → 4.2 % (no change).")
    assert v.sentences[1] == "Forgot: nothing (0 regressions)."
    assert "rust_E0308 (224,256 parameters, 12 examples)" in v.sentences[2]
    assert v.rows == [["holdout", "60", "56.7 %", "60 %", "+2"], ["koans", "48", "4.2 %", "4.2 %", "0"]]
    refused = NightReport("rust", None, [], "c2", "base", "base",
                          decision | {"promote": False, "regressions": ["holdout/gen-rs-borrow-1"]})
    assert night_verdict(refused).sentences[0].startswith("Kept production: ")
    assert "would have lost 1 task(s) production passes (gen-rs-borrow-1)" in night_verdict(refused).sentences[1]
    staged = NightReport("rust", None, [], "c3", "base", "base", decision, handed_to_canary=True)
    assert night_verdict(staged).sentences[0].startswith("Handed to the canary: the candidate c3 against production")
    assert night_verdict(staged).sentences[-1] == ("Production stays base; the candidate is c3, and the next "
                                                   "`sleepy day` runs the canary on it, which promotes it, keeps "
                                                   "watching or drops it.")
    idle = NightReport("rust", None, note="no signature failed 3+ times since the last night")
    assert night_verdict(idle).sentences == ["No candidate: no signature failed 3+ times since the last night. "
                                             "Production stays base."]


def test_report_opens_with_the_verdict(tmp_path):
    text = write_report(saved("cycle_rust_seed1_routed.json"), tmp_path / "report.html").read_text()
    verdict_at = text.index("<strong>Learned:</strong> generated holdout 28.3 % → 33.3 %")
    assert verdict_at < text.index("<h2>Nights") < text.index("<img")  # the verdict before the tables and plots
    assert verdict_at < 1500  # right under the title: on the first screen
    assert "<strong>Forgot:</strong> nothing (0 regressions)" in text
    assert "Backward transfer (BWT) 0 pts" in text and "Forward transfer (FWT) +8.3 pts" in text
    assert "{'" not in text  # no dict printouts
    assert "<td>(base line)</td>" in text  # night 0 is the base line, not a 0/0 day


@pytest.mark.skipif(_chromium() is None, reason="headless Chromium and chromedriver are not installed "
                                                "(apt-get install chromium chromium-driver)")
def test_the_report_s_first_screen_shows_the_verdict(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    report = write_report(saved("cycle_rust_seed1_routed.json"), tmp_path / "report.html")
    browser, driver_path = _chromium()
    options = Options()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.get(report.as_uri())
        height = driver.execute_script("return window.innerHeight")
        verdict = driver.find_element(By.CSS_SELECTOR, "ul.verdict")
        table = driver.find_element(By.ID, "pass-rates")
        assert verdict.text.startswith("Learned: generated holdout 28.3 % → 33.3 %")
        for element in (verdict, table):  # the sentences and the table, whole, without scrolling
            rect = driver.execute_script("return arguments[0].getBoundingClientRect().bottom", element)
            assert element.is_displayed() and rect <= height, (rect, height)
        assert driver.get_screenshot_as_png()[:4] == b"\x89PNG"
    finally:
        driver.quit()
