"""``sleepy serve``: an OpenAI-compatible API over a release, request batching, and the dashboard.

``api`` holds the OpenAI routes and feedback, ``batcher`` the one thread that runs the model,
``dashboard`` the page at ``/`` and the JSON it reads, ``guard`` who may send what (Host, API key,
origin, the dashboard's token, content type, body size), ``body`` what a body may hold.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from sleepy.serve.api import ServeContext, add_api_routes
from sleepy.serve.body import error
from sleepy.serve.dashboard import add_dashboard_routes
from sleepy.serve.guard import Guard, Policy


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
            if ctx.shadow is not None:
                await asyncio.to_thread(ctx.shadow.close)

    app = FastAPI(title="sleepy", version="0.2", lifespan=lifespan)
    app.add_middleware(Guard, policy=Policy.of(ctx.host, ctx.port, ctx.api_key, ctx.token, ctx.allow_hosts))
    add_error_handlers(app)
    app.state.batcher = add_api_routes(app, ctx)
    add_dashboard_routes(app, ctx)
    return app


def add_error_handlers(app: FastAPI) -> None:
    """Every error in the OpenAI shape: unknown paths and methods, bad query or path parameters (FastAPI's
    own 404/405/422), and, should a route still fail, a JSON 500 instead of a plain-text one."""

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        return error(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def bad_parameters(request: Request, exc: RequestValidationError):
        where = sorted({".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()})
        return error(400, f"invalid parameter(s): {', '.join(where)}")

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception):
        return error(500, f"internal error ({type(exc).__name__}); see the server log", "server_error")


__all__ = ["ServeContext", "create_app"]
