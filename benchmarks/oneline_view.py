"""The model alone on one-line Rust programs: shown as written vs shown formatted (``sleepy.context.view``).

A one-line program gives the line-anchored edit format one line to anchor on; the view shows the
model ``rustfmt``'s layout and carries its edit back onto the line. Model alone (no tools, no
memory), greedy first call, up to ``--attempts`` calls, on the ``oneline-*`` tasks of a folder.

    python benchmarks/oneline_view.py [--tasks benchmarks/koans/rust-shapes] [--attempts 3] [--out FILE]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import OneLineParser, write_result  # noqa: E402

import sleepy.loop.agent as agent  # noqa: E402
from sleepy.adapters.lora import RoutedModel  # noqa: E402
from sleepy.context.view import View  # noqa: E402
from sleepy.loop.evaluate import evaluate  # noqa: E402
from sleepy.model.loader import load_model  # noqa: E402
from sleepy.tasks.task import load_tasks  # noqa: E402


def main() -> None:
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="benchmarks/koans/rust-shapes")
    parser.add_argument("--attempts", type=int, default=3)
    parser.add_argument("--model", default="bundled")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    tasks = [t for t in load_tasks(Path(args.tasks), "rust") if t.id.startswith("oneline-")]
    model = RoutedModel(load_model(args.model), None)
    formatted = agent.view_of
    rows = {}
    for name, view in (("formatted view", formatted), ("as written", lambda pack, source: View(source, source))):
        agent.view_of = view
        rep = evaluate(model, "rust", attempts=args.attempts, tasks=tasks, sources=("model",))
        rows[name] = {"passed": sum(r.passed for r in rep.rows), "tasks": len(rep.rows),
                      "edits_that_could_not_be_placed": sum((r.signature_after or "").startswith("edit:")
                                                            for r in rep.rows),
                      "solved": [r.task_id for r in rep.rows if r.passed],
                      "last_edit": {r.task_id: r.edit for r in rep.rows}}
    agent.view_of = formatted
    a, b = rows["formatted view"], rows["as written"]
    write_result("oneline_view", {
        "headline": f"model alone on {a['tasks']} one-line programs: {a['passed']} solved shown formatted, "
                    f"{b['passed']} shown as written ({a['edits_that_could_not_be_placed']} vs "
                    f"{b['edits_that_could_not_be_placed']} edits that could not be placed)",
        "command": "python benchmarks/oneline_view.py " + " ".join(sys.argv[1:]), "model": args.model,
        "attempts": args.attempts, "rows": rows}, Path(args.out) if args.out else None)


if __name__ == "__main__":
    main()
