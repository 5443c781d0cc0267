"""How far rustc's own suggestions go on the frozen koans, applied blindly with no model.

This is the ceiling of what copying the prompt's ``### suggested`` edits can reach, so a model's koan
score can be read against it: which koans it solved by taking rustc's suggestion, and which without.

    python benchmarks/rustc_suggestions.py [--pack rust] [--eval EVAL.json] [--out FILE]

With ``--eval`` (a ``sleepy eval --json`` file) it also counts, per set of koans, how many the model
solved with exactly one of rustc's suggested edits and how many with an edit of its own.
"""

from __future__ import annotations

import json
from pathlib import Path

from common import OneLineParser, write_result

from sleepy.context.prompt import render_suggestions
from sleepy.loop.agent import diagnose
from sleepy.model.pretrain import KNOWN_FAMILIES
from sleepy.tasks.packs import get_pack
from sleepy.tasks.verify import verify_many


def main() -> None:
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", default="rust", choices=["rust", "python"])
    parser.add_argument("--eval", default=None, help="a sleepy eval --json file to read against the suggestions")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    tasks = get_pack(args.pack).frozen()
    diags = [r.primary for r in diagnose(tasks)]
    tried = [(t, i, f.apply(t.source)) for t, d in zip(tasks, diags, strict=True) if d
             for i, f in enumerate(d.fixits)]
    tried = [(t, i, c) for t, i, c in tried if c is not None]
    results = verify_many([(t, c) for t, _, c in tried], jobs=2)
    rows = {t.id: {"family": t.family, "known": t.family in KNOWN_FAMILIES[args.pack], "suggestions": 0,
                   "first_passes": False, "any_passes": False} for t in tasks}
    for (t, i, _), r in zip(tried, results, strict=True):
        row = rows[t.id]
        row["suggestions"] += 1
        row["first_passes"] |= i == 0 and r.passed
        row["any_passes"] |= r.passed
    summary = {}
    for known in (True, False):
        sel = [r for r in rows.values() if r["known"] == known]
        summary["known" if known else "new"] = {
            "koans": len(sel), "with_suggestion": sum(r["suggestions"] > 0 for r in sel),
            "first_passes": sum(r["first_passes"] for r in sel), "any_passes": sum(r["any_passes"] for r in sel)}
    if args.eval:
        shown = {t.id: render_suggestions(d, t.source) if d else "" for t, d in zip(tasks, diags, strict=True)}
        solved = [r for r in json.loads(Path(args.eval).read_text())["tasks"] if r["set"] == "frozen" and r["passed"]]
        for known in (True, False):
            sel = [r for r in solved if rows[r["task_id"]]["known"] == known]
            copied = [r["task_id"] for r in sel if r["edit"].strip() and f"\n{r['edit'].strip()}\n" in
                      "\n" + shown[r["task_id"]].replace("### ", "\n### ") + "\n"]
            summary["known" if known else "new"]["model_solved"] = len(sel)
            summary["known" if known else "new"]["model_solved_with_a_suggestion"] = len(copied)
            summary["known" if known else "new"]["model_solved_with_own_edit"] = sorted(
                r["task_id"] for r in sel if r["task_id"] not in copied)
    name = f"rustc_suggestions_{args.pack}" + (f"_vs_{args.eval.rsplit('/', 1)[-1].removesuffix('.json')}"
                                               if args.eval else "")
    write_result(name, {"pack": args.pack, "eval": args.eval, "summary": summary, "koans": rows}, args.out)


if __name__ == "__main__":
    main()
