"""The dashboard at ``/``: one server-rendered page, a little JavaScript, and the JSON it reads.

What a team wants to see without a terminal: releases and every alias move (with a rollback button
that asks first and writes the same history the CLI writes), pass rate per night overall and per
family against the base line, the task x release heatmap (the same plots as ``report.html``), the
live day, an episode browser with each attempt's wide event and edit, and memory search. The rollout
section is the staged release as it happens: the running canary's tasks and passes per release and
per signature, and the alias timeline, each move with who made it (gate, canary, monitor, a person) and
its key evidence (:mod:`sleepy.loop.timeline`). A server started on ``production`` follows every move,
a rollback pressed here included (:mod:`sleepy.serve.follow`).

The page embeds this run's token and its POSTs send it back in a header: ``sleepy.serve.guard``
refuses a dashboard POST without it or from another origin, so no other web page can press the button.
"""

from __future__ import annotations

import asyncio
import html
import threading
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from sleepy.serve.api import ServeContext, read_json
from sleepy.serve.body import INT_LIMIT, RequestError, error, parse_rollback
from sleepy.serve.guard import TOKEN_HEADER

_FIGURES_LOCK = threading.Lock()  # pyplot is not thread-safe; page loads run in a thread pool
_FIGURES_CACHE: dict[Path, tuple[float, list]] = {}


def _cycle_figures(workspace: Path | None) -> list[tuple[str, str, str]]:
    """The last cycle's plots, redrawn only when ``cycle.json`` changes; none while it cannot be read."""
    from sleepy.loop.cycle import CycleResult
    from sleepy.report.html import figures

    path = (workspace or Path(".sleepy")) / "cycle" / "cycle.json"
    with _FIGURES_LOCK:
        try:
            mtime = path.stat().st_mtime
            if path in _FIGURES_CACHE and _FIGURES_CACHE[path][0] == mtime:
                return _FIGURES_CACHE[path][1]
            result = CycleResult.load(path)
        except (OSError, ValueError, TypeError, KeyError):
            return []
        figs = figures(result) if result.nights else []
        _FIGURES_CACHE[path] = (mtime, figs)
        return figs


def add_dashboard_routes(app: FastAPI, ctx: ServeContext) -> None:
    def releases() -> dict:
        reg = ctx.registry
        if reg is None:
            return {"aliases": {}, "releases": [], "history": []}
        rows = [{"id": r.id, "created_at": r.created_at, "parent": r.parent,
                 "skills": [{"name": s.name, "kind": s.kind, "signatures": s.signatures,
                             "trainable_parameters": s.trainable_parameters} for s in r.skills]}
                for r in reg.list()]
        return {"aliases": reg.aliases(), "production": reg.resolve("production"), "releases": rows,
                "history": reg.history()}

    @app.get("/api/releases")
    def api_releases():
        return releases()

    @app.post("/api/rollback")
    async def api_rollback(request: Request):
        from sleepy.adapters.registry import RegistryError

        if ctx.registry is None:
            return error(409, "this server has no release registry (start it with a workspace)")
        try:  # the per-run token and the origin were checked before (sleepy.serve.guard)
            to, why = parse_rollback(await read_json(request))
        except RequestError as exc:
            return error(exc.status, str(exc), code=exc.code)
        try:  # hashing and fsync: off the event loop, so streams keep flowing
            entry = await asyncio.to_thread(ctx.registry.rollback, to, why, "dashboard")
        except RegistryError as exc:
            return error(409, str(exc), code="rollback_refused")
        if ctx.follower is not None and ctx.follower.alias == "production":
            await asyncio.to_thread(ctx.follower.check)  # serve the rolled-back release from the next batch on
            if ctx.follower.failed is not None:
                return entry | {"note": f"release {ctx.follower.failed} does not load (see the server log); "
                                        f"this server still serves {ctx.model.name}"}
            return entry | {"note": f"this server now serves {ctx.model.name}"}
        return entry | {"note": f"this server keeps serving {ctx.model.name} until it is restarted"}

    @app.get("/api/rollout")
    def api_rollout():
        from sleepy.adapters.registry import RegistryError
        from sleepy.loop.rollout import events_path
        from sleepy.loop.timeline import EVENTS_READ, canary_figures, read_events, timeline

        if ctx.registry is None:
            return {"timeline": [], "canary": None}
        try:
            history, aliases = ctx.registry.history(), ctx.registry.aliases()
        except RegistryError as exc:  # a damaged aliases.json: one line, as the CLI says it
            return error(409, str(exc), code="registry_damaged")
        events = read_events(events_path(ctx.workspace or Path(".sleepy")), EVENTS_READ)
        return {"timeline": timeline(history), "canary": canary_figures(aliases, history, events)}

    @app.get("/api/shadow")
    def api_shadow():
        return {"shadow": ctx.shadow.report().as_dict() if ctx.shadow is not None else None}

    @app.get("/api/live")
    def api_live():
        if ctx.store is None:
            return {"run": None}
        return {"run": ctx.store.latest_run("day")}

    @app.get("/api/episodes")
    def api_episodes(limit: int = 50):
        return {"episodes": ctx.store.recent_episodes(min(max(limit, 1), 500)) if ctx.store else []}

    @app.get("/api/episodes/{episode_id}")
    def api_episode(episode_id: int):
        if ctx.store is None or not 0 <= episode_id < INT_LIMIT or (ep := ctx.store.episode(episode_id)) is None:
            return error(404, f"no episode {episode_id}", code="episode_not_found")
        return {"episode": ep, "events": ctx.store.episode_events(episode_id)}

    @app.get("/api/memory/search")
    def api_memory_search(q: str, k: int = 5):
        if ctx.memory is None or ctx.store is None:
            return error(409, "this server has no memory (start it with a workspace)")
        if not q.strip():
            return error(400, "empty query")
        hits = ctx.memory.similar(q, min(max(k, 1), 50))
        fixes = {f.id: f for f in ctx.store.fixes([i for i, _ in hits])}
        return {"results": [{"id": i, "score": round(s, 4), "signature": fixes[i].signature,
                             "task": fixes[i].task_id, "provenance": fixes[i].provenance, "edit": fixes[i].edit}
                            for i, s in hits if i in fixes]}

    @app.get("/", response_class=HTMLResponse)
    def page():
        figs = _cycle_figures(ctx.workspace)
        plots = "".join(f"<h3>{html.escape(t)}</h3><img id='{i}' alt='{html.escape(t)}' "
                        f"src='data:image/png;base64,{b}'/>" for i, t, b in figs) \
            or "<p id='no-cycle'>No cycle has run in this workspace yet (<code>sleepy cycle</code>).</p>"
        return (PAGE.replace("{{PLOTS}}", plots).replace("{{SERVING}}", html.escape(ctx.model.name))
                .replace("{{TOKEN}}", html.escape(ctx.token)).replace("{{TOKEN_HEADER}}", TOKEN_HEADER))


PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>sleepy dashboard</title>
<meta name="sleepy-token" content="{{TOKEN}}">
<style>
body{font-family:system-ui,sans-serif;max-width:1150px;margin:1.5em auto;color:#222}
section{border-top:1px solid #ddd;margin-top:1.2em;padding-top:.4em}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}
pre{background:#f6f6f6;padding:.6em;overflow:auto;max-height:28em;font-size:12px}
.ok{color:#187a2f}.bad{color:#b3261e}button{cursor:pointer}img{max-width:100%}
</style></head><body>
<h1>sleepy</h1><p>Serving <b id="serving">{{SERVING}}</b>. Production: <b id="production">?</b></p>
<section><h2>Releases</h2><table id="releases"></table>
<p><button id="rollback-previous">roll production back</button> to the release before its last move</p></section>
<section><h2>Rollout</h2><p id="canary">no canary running (a night hands a candidate to it when
<code>canary</code> is set; <code>sleepy day --canary 0.2</code>)</p>
<table id="canary-releases"></table><table id="canary-signatures"></table>
<h3>Alias timeline: every move and why</h3><table id="timeline"></table></section>
<section><h2>Learning</h2>{{PLOTS}}</section>
<section><h2>Live day</h2><p id="live">no day has run yet</p></section>
<section><h2>Shadow</h2><p id="shadow">no shadow (<code>sleepy serve --shadow candidate</code>)</p>
<table id="shadow-signatures"></table></section>
<section><h2>Episodes</h2><table id="episodes"></table><pre id="episode"></pre></section>
<section><h2>Memory search</h2><form id="search"><input id="q" size="60" placeholder="error text or code">
<button>search</button></form><pre id="hits"></pre></section>
<script>
const $ = (id) => document.getElementById(id);
const TOKEN = document.querySelector('meta[name="sleepy-token"]').content;  // this run's; required by POSTs
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;",
  '"':"&quot;","'":"&#39;"}[c]));
async function getJSON(url, opts) {
  const r = await fetch(url, opts); const body = await r.json();
  if (!r.ok) throw new Error(body.error ? body.error.message : r.statusText); return body;
}
async function loadReleases() {
  const d = await getJSON("/api/releases");
  $("production").textContent = d.production || "base";
  const rows = [{id: "base", created_at: "", skills: [], parent: null}, ...d.releases];
  $("releases").innerHTML = "<tr><th>release</th><th>created</th><th>skills</th><th>aliases</th><th></th></tr>" +
    rows.map((r) => {
      const aliases = Object.entries(d.aliases).filter(([, v]) => v === r.id).map(([k]) => k).join(", ");
      const skills = r.skills.map((s) => `${esc(s.name)} (${s.kind}, ${s.trainable_parameters})`).join("<br>");
      const button = r.id === (d.production || "base") ? "" :
        `<button class="rollback" data-to="${esc(r.id)}">make production</button>`;
      return `<tr data-release="${esc(r.id)}"><td>${esc(r.id)}</td><td>${esc(r.created_at)}</td><td>${skills}</td>` +
             `<td>${esc(aliases)}</td><td>${button}</td></tr>`;
    }).join("");
  document.querySelectorAll("button.rollback").forEach((b) => b.onclick = () =>
    rollback(`Move production to ${b.dataset.to}?`, {to: b.dataset.to, why: "rollback from the dashboard"}));
  loadRollout();
}
async function rollback(question, body) {
  if (!confirm(question)) return;
  try { await getJSON("/api/rollback", {method: "POST", headers: {"Content-Type": "application/json",
        "{{TOKEN_HEADER}}": TOKEN}, body: JSON.stringify(body)}); }
  catch (e) { alert(e.message); }
  loadReleases();
}
$("rollback-previous").onclick = () => rollback("Move production back to the release before its last move?",
  {why: "rollback from the dashboard"});
const pct = (k, n) => n ? `${k}/${n} (${Math.round(100 * k / n)}%)` : "0/0";
async function loadRollout() {
  const d = await getJSON("/api/rollout"); const c = d.canary;
  if (c) {
    $("canary").textContent = `canary on ${c.candidate} against production ${c.production}: ${c.decision}` +
      (c.tasks ? ` after ${c.tasks} tasks on the candidate` : "") + ` (${c.reason})`;
    $("canary-releases").innerHTML = "<tr><th>release</th><th>role</th><th>tasks</th><th>passed</th></tr>" +
      c.releases.map((r) => `<tr data-role="${esc(r.role)}"><td>${esc(r.release)}</td><td>${esc(r.role)}</td>` +
        `<td>${r.tasks}</td><td>${pct(r.passed, r.tasks)}</td></tr>`).join("");
    $("canary-signatures").innerHTML = "<tr><th>signature</th><th>candidate</th><th>production</th>" +
      "<th>P(worse)</th></tr>" + c.signatures.map((s) => `<tr><td>${esc(s.signature)}</td>` +
        `<td>${pct(...s.candidate)}</td><td>${pct(...s.production)}</td><td>${s.harm}</td></tr>`).join("");
  }
  $("timeline").innerHTML = "<tr><th>when</th><th>alias</th><th>from</th><th>to</th><th>by</th><th>who</th>" +
    "<th>why</th><th>evidence</th></tr>" + d.timeline.map((h) => `<tr class="move ${esc(h.kind)}">` +
      `<td>${esc(h.time)}</td><td>${esc(h.alias)}</td><td>${esc(h.from)}</td><td>${esc(h.to)}</td>` +
      `<td>${esc(h.kind)}</td><td>${esc(h.who)}</td><td>${esc(h.why)}</td><td>${esc(h.evidence)}</td></tr>`).join("");
}
async function loadLive() {
  const d = await getJSON("/api/live"); const r = d.run; if (!r) return;
  const rate = r.episodes ? Math.round(100 * r.passed / r.episodes) : 0;
  $("live").innerHTML = `run ${r.id} ${r.finished_at ? "finished" : "running"}: ${r.episodes} tasks done, ` +
    `pass rate ${rate}%, current task <code>${esc(r.current_task)}</code>`;
}
async function loadEpisodes() {
  const d = await getJSON("/api/episodes?limit=30");
  $("episodes").innerHTML = "<tr><th>episode</th><th>task</th><th>family</th><th>release</th><th>result</th></tr>" +
    d.episodes.map((e) => `<tr><td><a href="#" data-ep="${e.id}">#${e.id}</a></td><td>${esc(e.task_id)}</td>` +
      `<td>${esc(e.family)}</td><td>${esc(e.release)}</td><td class="${e.passed ? "ok" : "bad"}">` +
      `${e.passed === null ? "running" : e.passed ? "passed" : "failed"}</td></tr>`).join("");
  document.querySelectorAll("a[data-ep]").forEach((a) => a.onclick = async (ev) => {
    ev.preventDefault(); const d = await getJSON(`/api/episodes/${a.dataset.ep}`);
    $("episode").textContent = d.events.map((e) => `attempt ${e["sleepy.attempt"] ?? 1}: ` +
      `${e["sleepy.verifier.passed"] ? "passed" : "failed"}\\n${e["sleepy.edit"]}\\n` +
      JSON.stringify(e, null, 1)).join("\\n\\n");
  });
}
$("search").onsubmit = async (ev) => {
  ev.preventDefault();
  try {
    const d = await getJSON(`/api/memory/search?q=${encodeURIComponent($("q").value)}&k=5`);
    $("hits").textContent = d.results.map((h) => `#${h.id} ${h.score} ${h.signature} (${h.task})\\n${h.edit}`)
      .join("\\n\\n") || "no remembered fix yet";
  } catch (e) { $("hits").textContent = e.message; }
};
async function loadShadow() {
  const s = (await getJSON("/api/shadow")).shadow; if (!s) return;
  $("shadow").textContent = `shadow ${s.shadow_release}: ${s.compared} tasks compared; shadow solved ` +
    `${s.shadow_solved}, live solved ${s.live_solved} (shadow only ${s.shadow_only}, live only ${s.live_only}); ` +
    `${s.dropped} dropped, ${s.queued} queued`;
  $("shadow-signatures").innerHTML = "<tr><th>signature</th><th>compared</th><th>shadow solved</th>" +
    "<th>live solved</th><th>dropped</th></tr>" + s.by_signature.map((r) => `<tr><td>${esc(r.signature)}</td>` +
    `<td>${r.compared}</td><td>${r.shadow_solved}</td><td>${r.live_solved}</td><td>${r.dropped}</td></tr>`).join("");
}
loadReleases(); loadLive(); loadEpisodes(); setInterval(loadLive, 2000); setInterval(loadRollout, 5000);
loadShadow(); setInterval(loadShadow, 5000);
</script></body></html>"""
