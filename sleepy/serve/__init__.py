"""``sleepy serve``: an OpenAI-compatible API over a release, request batching, and the dashboard.

``api`` holds the OpenAI routes and feedback, ``batcher`` the one thread that runs the model,
``dashboard`` the page at ``/`` and the JSON it reads.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI

from sleepy.serve.api import ServeContext, add_api_routes
from sleepy.serve.dashboard import add_dashboard_routes


def create_app(ctx: ServeContext) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        """Stop the worker and follower threads at shutdown: each holds a whole model, and a process that
        makes several apps (tests, an embedding host) would otherwise keep them all."""
        yield
        try:
            if ctx.follower is not None:
                await asyncio.to_thread(ctx.follower.stop)
        finally:
            await asyncio.to_thread(app.state.batcher.close)

    app = FastAPI(title="sleepy", version="0.2", lifespan=lifespan)
    app.state.batcher = add_api_routes(app, ctx)
    add_dashboard_routes(app, ctx)
    return app


__all__ = ["ServeContext", "create_app"]
