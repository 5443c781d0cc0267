"""The cycle report: one self-contained HTML file with the learning numbers and plots (PNG inline).

Definitions used throughout (per task, majority over the gate's seeds):
* pass rate per night: of the release in production after that night;
* backward transfer (BWT): mean change, from night 0 to the last night, over tasks of the *known*
  families (what the model already knew): below 0 means forgetting;
* forward transfer (FWT): the same mean change over tasks of the *new* families (what it learned);
* regressions per promotion: tasks passed before and failed after, counted by the gate.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import TYPE_CHECKING

from sleepy.report.verdict import cycle_verdict

if TYPE_CHECKING:  # nothing imports the loop at run time: the report only reads its result
    from sleepy.loop.cycle import CycleResult


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def summary(result: CycleResult) -> dict:
    first, last = result.nights[0], result.nights[-1]
    known = set(result.known_families)

    def mean_change(keys: list[str]) -> float | None:
        if not keys:
            return None
        return round(sum(int(last.results.get(k, False)) - int(first.results[k]) for k in keys) / len(keys), 4)

    keys = list(first.results)
    known_keys = [k for k in keys if first.families.get(k) in known]
    new_keys = [k for k in keys if first.families.get(k) not in known]
    rates = []
    for row in result.nights:
        by_set: dict[str, list[bool]] = {}
        for k, v in row.results.items():
            by_set.setdefault(k.split("/")[0], []).append(v)
        rates.append({s: round(sum(v) / len(v), 4) for s, v in by_set.items()})
    return {"bwt_known": mean_change(known_keys), "fwt_new": mean_change(new_keys), "pass_rates": rates,
            "regressions_per_promotion": [r.regressions for r in result.nights[1:] if r.promoted],
            "night_seconds": [r.night_seconds for r in result.nights[1:]]}


def family_rates(result: CycleResult, set_name: str) -> dict[str, list[float]]:
    fams = sorted({f for k, f in result.nights[0].families.items() if k.startswith(set_name + "/")})
    out = {}
    for fam in fams:
        keys = [k for k, f in result.nights[0].families.items() if f == fam and k.startswith(set_name + "/")]
        out[fam] = [sum(row.results.get(k, False) for k in keys) / len(keys) for row in result.nights]
    return out


HEATMAP_ALL = 40  # up to this many tasks the heatmap shows every one; beyond, only those that changed


def heatmap_rows(result: CycleResult) -> tuple[list[str], str]:
    """The heatmap's tasks: those whose result changed across nights first, grouped by family; when there are
    many tasks, only the changed ones (a 108-row heatmap is unreadable). Returns the keys and a title note."""
    first = result.nights[0]

    def changed(k: str) -> bool:
        return len({bool(r.results.get(k, False)) for r in result.nights}) > 1

    keys = sorted(first.results, key=lambda k: (not changed(k), first.families.get(k, ""), k))
    moved = [k for k in keys if changed(k)]
    if len(keys) > HEATMAP_ALL and moved:
        return moved, f"\n{len(moved)} task(s) that changed; {len(keys) - len(moved)} unchanged not shown"
    return keys, ""


def figures(result: CycleResult) -> list[tuple[str, str, str]]:
    """(id, title, base64 PNG) of every plot: pass rate per night per set, and the task x release heatmap.

    The HTML report and the dashboard both show these, so both draw them here."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    s = summary(result)
    nights = [r.night for r in result.nights]
    figs = []
    for set_name in ("frozen", "holdout"):
        rates = family_rates(result, set_name)
        if not rates:
            continue
        fig, ax = plt.subplots(figsize=(7, 3.6))
        overall = [r.get(set_name, 0) for r in s["pass_rates"]]
        ax.plot(nights, overall, "k-o", lw=2.5, label="overall")
        ax.axhline(overall[0], color="k", ls="--", lw=1, label="base line (night 0)")
        for fam, vals in rates.items():
            style = "-" if fam in result.known_families else ":"
            ax.plot(nights, vals, style, marker=".", label=f"{fam}{'' if fam in result.known_families else ' (new)'}")
        ax.set_xlabel("night")
        ax.set_ylabel("pass rate")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xticks(nights)
        ax.set_title(f"{result.pack}: {set_name} set, majority of {result.seeds} seed(s)")
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5))
        figs.append((f"pass-rate-{set_name}", f"Pass rate per night: {set_name}", _png(fig)))
        plt.close(fig)
    keys, note = heatmap_rows(result)
    matrix = np.array([[int(row.results.get(k, False)) for row in result.nights] for k in keys])
    fig, ax = plt.subplots(figsize=(3 + 0.9 * len(nights), max(3, 0.16 * len(keys))))
    ax.imshow(matrix, aspect="auto", cmap="RdYlGn", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks(range(len(nights)), [f"night {r.night}\n{r.production[:8]}" for r in result.nights], fontsize=7)
    labels = [f"{result.nights[0].families.get(k, '?')}: {k.split('/', 1)[1]}" for k in keys]
    labels = [lab if len(lab) <= 40 else f"{lab[:19]}~{lab[-19:]}" for lab in labels]
    ax.set_yticks(range(len(keys)), labels, fontsize=6)
    ax.set_title(f"task x release (green = passed){note}", fontsize=9)
    figs.append(("heatmap", "Task x release result matrix (forgetting heatmap)", _png(fig)))
    plt.close(fig)
    return figs


def verdict_html(result: CycleResult) -> str:
    """The verdict (sentences, then a table of percentages, then BWT/FWT in words) as the report's first block."""
    v = cycle_verdict(result)

    def sentence(text: str) -> str:
        head, sep, rest = text.partition(": ")
        if sep and head in ("Learned", "Lost ground", "Forgot", "Hand-written koans"):
            return f"<li><strong>{html.escape(head)}:</strong> {html.escape(rest)}</li>"
        return f"<li>{html.escape(text)}</li>"

    head = "".join(f"<th>{html.escape(c).replace(chr(10), '<br>')}</th>" for c in v.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in v.rows)
    terms = "".join(f"<li>{html.escape(t)}</li>" for t in v.terms)
    return (f"<section id='verdict'><ul class='verdict'>{''.join(sentence(x) for x in v.sentences)}</ul>"
            f"<table id='pass-rates'><tr>{head}</tr>{body}</table>"
            + (f"<ul class='terms'>{terms}</ul>" if terms else "") + "</section>")


def write_report(result: CycleResult, path: Path) -> Path:
    """The report: the verdict first (what a person reads), then the nights, then the plots."""
    figs = figures(result)

    def skills_cell(r) -> str:
        return ", ".join(f"{html.escape(str(c.get('skill')))} ({c.get('trainable_parameters', 0):,})"
                         for c in r.skills)

    def gate_cell(r) -> str:
        if r.handed_to_canary:
            return "passed, to the canary"
        return "" if r.promoted is None else ("promoted" if r.promoted else "refused")

    def layers_cell(r) -> str:
        solved = getattr(r, "solved_by", None) or {}
        return ", ".join(f"{k} {solved[k]}" for k in ("tool", "memory", "model", "skill") if k in solved)

    def day_cell(r) -> str:
        return "(base line)" if r.night == 0 else f"{r.day_passed}/{r.day_tasks}"

    rows = "".join(
        f"<tr><td>{r.night}</td><td>{html.escape(r.production)}</td><td>{day_cell(r)}</td>"
        f"<td>{gate_cell(r)}</td><td>{r.regressions}</td><td>{html.escape(r.reason)}</td>"
        f"<td>{r.night_seconds:.0f}</td><td>{layers_cell(r)}</td><td>{skills_cell(r)}</td></tr>"
        for r in result.nights)
    images = "".join(f"<h2>{t}</h2><img id='{i}' src='data:image/png;base64,{b}'/>" for i, t, b in figs)
    body = f"""<!doctype html><html><head><meta charset="utf-8"><title>sleepy cycle report</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:1.5em auto}}td,th{{border:1px solid #ccc;padding:3px 6px}}
table{{border-collapse:collapse;font-size:13px}}ul.verdict{{font-size:17px;line-height:1.5;padding-left:1.2em}}
ul.terms{{font-size:13px;color:#444}}img{{max-width:100%}}</style></head><body>
<h1>sleepy cycle: {html.escape(result.pack)}, {len(result.nights) - 1} night(s)</h1>
{verdict_html(result)}
<h2>Nights</h2><table><tr><th>night</th><th>production after</th><th>day passed</th><th>gate</th>
<th>regressions</th><th>why</th><th>night s</th><th>who solved the gate's tasks (greedy)</th>
<th>skills (trainable params)</th></tr>
{rows}</table>
<p>Command: <code>{html.escape(result.command)}</code>. Gate seeds: {result.seeds} (each task counts as passed when
it passes in the majority). Known families (pretrained on): {html.escape(', '.join(result.known_families))}.</p>
{images}</body></html>"""
    path.write_text(body)
    return path
