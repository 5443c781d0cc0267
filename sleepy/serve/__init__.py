"""``sleepy serve``: an OpenAI-compatible API over a release, request batching, and the dashboard.

``api`` holds the OpenAI routes and feedback, ``batcher`` the one thread that runs the model,
``dashboard`` the page at ``/`` and the JSON it reads.
"""

from __future__ import annotations

from fastapi import FastAPI

from sleepy.serve.api import ServeContext, add_api_routes
from sleepy.serve.dashboard import add_dashboard_routes


def create_app(ctx: ServeContext) -> FastAPI:
    app = FastAPI(title="sleepy", version="0.2")
    app.state.batcher = add_api_routes(app, ctx)
    add_dashboard_routes(app, ctx)
    return app


__all__ = ["ServeContext", "create_app"]
