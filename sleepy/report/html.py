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
    keys = sorted(result.nights[0].results, key=lambda k: (result.nights[0].families[k], k))
    matrix = np.array([[int(row.results.get(k, False)) for row in result.nights] for k in keys])
    fig, ax = plt.subplots(figsize=(3 + 0.5 * len(nights), max(4, 0.12 * len(keys))))
    ax.imshow(matrix, aspect="auto", cmap="RdYlGn", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks(range(len(nights)), [f"n{n}" for n in nights])
    labels = [k.split("/", 1)[1] for k in keys]
    labels = [lab if len(lab) <= 30 else f"{lab[:14]}~{lab[-14:]}" for lab in labels]
    ax.set_yticks(range(len(keys)), labels, fontsize=5)
    ax.set_title("task x release (green = passed)")
    figs.append(("heatmap", "Task x release result matrix (forgetting heatmap)", _png(fig)))
    plt.close(fig)
    return figs


def write_report(result: CycleResult, path: Path) -> Path:
    s = summary(result)
    figs = figures(result)

    def skills_cell(r) -> str:
        return ", ".join(f"{html.escape(str(c.get('skill')))} ({c.get('trainable_parameters', 0):,})"
                         for c in r.skills)

    def gate_cell(r) -> str:
        return "" if r.promoted is None else ("promoted" if r.promoted else "kept")

    def layers_cell(r) -> str:
        solved = getattr(r, "solved_by", None) or {}
        return ", ".join(f"{k} {solved[k]}" for k in ("tool", "memory", "model", "skill") if k in solved)

    rows = "".join(
        f"<tr><td>{r.night}</td><td>{html.escape(r.production)}</td><td>{r.day_passed}/{r.day_tasks}</td>"
        f"<td>{gate_cell(r)}</td><td>{r.regressions}</td><td>{html.escape(r.reason)}</td>"
        f"<td>{r.night_seconds:.0f}</td><td>{layers_cell(r)}</td><td>{skills_cell(r)}</td></tr>"
        for r in result.nights)
    images = "".join(f"<h2>{t}</h2><img id='{i}' src='data:image/png;base64,{b}'/>" for i, t, b in figs)
    rates = "".join(f"<li>night {i}: {r}</li>" for i, r in enumerate(s["pass_rates"]))
    body = f"""<!doctype html><html><head><meta charset="utf-8"><title>sleepy cycle report</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}td,th{{border:1px solid #ccc;padding:3px 6px}}
table{{border-collapse:collapse;font-size:13px}}</style></head><body>
<h1>sleepy cycle: {html.escape(result.pack)}, {len(result.nights) - 1} night(s)</h1>
<p>Command: <code>{html.escape(result.command)}</code>. Gate seeds: {result.seeds}. Known families:
{html.escape(', '.join(result.known_families))}.</p>
<ul><li>backward transfer on known families (BWT): {s['bwt_known']}</li>
<li>forward transfer on new families (FWT): {s['fwt_new']}</li>
<li>regressions per promotion: {s['regressions_per_promotion']}</li>
<li>night wall time (s): {s['night_seconds']}</li></ul>
<h2>Pass rates</h2><ul>{rates}</ul>
<h2>Nights</h2><table><tr><th>night</th><th>production after</th><th>day</th><th>gate</th><th>regressions</th>
<th>why</th><th>night s</th><th>who solved the gate's tasks (greedy)</th><th>skills (trainable params)</th></tr>
{rows}</table>
{images}</body></html>"""
    path.write_text(body)
    return path
