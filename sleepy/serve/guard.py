"""Who may talk to ``sleepy serve``, checked once, before any route runs.

A server on loopback is still reachable from every page the user's browser opens: a page on another
origin can POST to it (a "simple" request needs no CORS preflight), and DNS rebinding lets a page reach
it under the page's own name. So, for every HTTP request, in this order:

* the Host header must name this server (loopback names, the bound host, ``--allow-host`` names; the
  bound port): a rebinding page's requests carry the attacker's name;
* with an API key (``sleepy serve --api-key-env VAR``): ``Authorization: Bearer <key>`` (API clients)
  or HTTP Basic with the key as password (a browser asks for it on the dashboard), compared in
  constant time;
* a POST must come from this origin (``Origin``, else ``Sec-Fetch-Site``), carry ``Content-Type:
  application/json`` (parsed: ``text/plain; x=application/json`` is text), and on the dashboard's
  ``/api/`` routes the per-run token its page embeds, in a header: another origin can neither read the
  page nor send a custom header without a preflight this server never grants;
* the body is read here, at most :data:`MAX_BODY_BYTES` however it is framed (chunked included), and
  handed to the route; past the cap the answer is 413 at once.

Refusals are OpenAI-style JSON errors, like every other error of the server.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from starlette.datastructures import Headers

from sleepy.serve.body import RequestError, error

MAX_BODY_BYTES = 1_000_000
TOKEN_HEADER = "X-Sleepy-Token"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
WILDCARDS = ("0.0.0.0", "::", "")
_DIGITS = re.compile(r"[0-9]+")
_HOST = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::([0-9]{1,5}))?")

Scope = dict
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


def is_loopback(host: str) -> bool:
    """Whether a bind address is reachable only from this machine (no API key needed there)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(host: str) -> str:
    """A bind address as a Host header spells it: lower case, an IPv6 address in brackets."""
    name = host.strip().strip("[]").lower()
    return f"[{name}]" if ":" in name else name


def split_host(value: str) -> tuple[str, int | None] | None:
    """(name, port) of a Host header, or None when it is not one."""
    match = _HOST.fullmatch(value.strip().lower())
    if match is None:
        return None
    return match[1], int(match[2]) if match[2] else None


def machine_names() -> set[str]:
    """Names a wildcard-bound server is reached by without ``--allow-host``: this host's name and the
    addresses it resolves to (best effort: no resolver, no names)."""
    names = {socket.gethostname(), socket.getfqdn()}
    with contextlib.suppress(OSError):
        names |= {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)}
    return {host_name(n) for n in names if n}


def is_json(content_type: str | None) -> bool:
    """``application/json``, with at most a UTF-8 charset parameter: the only body the routes take."""
    kind, *params = (content_type or "").split(";")
    if kind.strip().lower() != "application/json":
        return False
    for param in filter(str.strip, params):
        name, eq, value = param.partition("=")
        if name.strip().lower() != "charset" or value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True


@dataclass(frozen=True)
class Policy:
    """What the guard accepts: Host names and port, the API key, the dashboard's per-run token."""

    names: frozenset[str]
    port: int | None  # None: any port (an embedding app or TestClient does not know it)
    api_key: str | None
    token: str

    @classmethod
    def of(cls, host: str, port: int | None, api_key: str | None, token: str,
           allow_hosts: Iterable[str] = ()) -> Policy:
        names = {*LOOPBACK_NAMES, *(host_name(h) for h in allow_hosts)}
        names |= machine_names() if host in WILDCARDS else {host_name(host)}
        return cls(frozenset(names), port or None, api_key or None, token)

    def host_ok(self, value: str | None) -> bool:
        parsed = split_host(value or "")
        if parsed is None or parsed[0] not in self.names:
            return False
        port = parsed[1]
        return self.port is None or port == self.port or port is None and self.port == 80

    def key_ok(self, authorization: str | None) -> bool:
        """Bearer (API clients) or Basic with the key as password (browsers); constant-time compare."""
        if self.api_key is None:
            return True
        scheme, _, given = (authorization or "").strip().partition(" ")
        if scheme.lower() == "basic":
            try:
                secret = base64.b64decode(given.strip(), validate=True).partition(b":")[2]
            except ValueError:  # binascii.Error, or a character outside ASCII
                return False
        elif scheme.lower() == "bearer":
            secret = given.strip().encode("latin-1")  # header text is latin-1: these are the bytes sent
        else:
            return False
        return hmac.compare_digest(secret, self.api_key.encode("utf-8"))

    def refusal(self, scope: Scope) -> RequestError | None:
        """Why this request may not reach a route, or None; the body is checked later, while it is read."""
        headers = Headers(scope=scope)
        host = headers.get("host")
        if not self.host_ok(host):
            allowed = ", ".join(sorted(self.names))
            return RequestError(421, f"Host {host!r} is not a name of this server ({allowed}; "
                                     "sleepy serve --allow-host NAME adds one)", "invalid_host")
        if not self.key_ok(headers.get("authorization")):
            return RequestError(401, "missing or incorrect API key (Authorization: Bearer KEY)", "invalid_api_key")
        if scope["method"] != "POST":
            return None
        if not same_origin(headers, host):
            return RequestError(403, "cross-origin request refused", "cross_origin")
        if scope["path"].startswith("/api/") and not hmac.compare_digest(
                headers.get(TOKEN_HEADER, "").encode("latin-1"), self.token.encode()):
            return RequestError(403, f"missing or wrong {TOKEN_HEADER} (the dashboard page sends it)",
                                "invalid_token")
        if not is_json(headers.get("content-type")):
            return RequestError(415, "Content-Type must be application/json", "unsupported_media_type")
        return None


def same_origin(headers: Headers, host: str) -> bool:
    """A browser names the page that sent a request (Origin, else Sec-Fetch-Site); other clients name none."""
    origin = headers.get("origin")
    if origin is not None:
        return origin.lower() in (f"http://{host}".lower(), f"https://{host}".lower())
    return headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")


async def read_body(scope: Scope, receive: Receive, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole body, refused with 413 as soon as it passes ``limit``: never more than that is held."""
    length = (Headers(scope=scope).get("content-length") or "0").strip()
    if not _DIGITS.fullmatch(length):
        raise RequestError(400, "Content-Length is not a number")
    if len(length) > 18 or int(length) > limit:
        raise RequestError(413, f"request body over {limit} bytes")
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise RequestError(400, "the client went away before its body arrived")
        body += message.get("body", b"")
        if len(body) > limit:
            raise RequestError(413, f"request body over {limit} bytes")
        if not message.get("more_body", False):
            return bytes(body)


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the route the body already read, then the client's own messages (a
    streamed answer watches them for a disconnect)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def again() -> dict:
        return pending.pop() if pending else await receive()

    return again


class Guard:
    """ASGI middleware that applies a :class:`Policy` to every HTTP request."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], policy: Policy) -> None:
        self.app, self.policy = app, policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = self.policy.refusal(scope)
        if refused is None and scope["method"] == "POST":
            try:
                receive = replay(await read_body(scope, receive), receive)
            except RequestError as exc:
                refused = exc
        if refused is None:
            await self.app(scope, receive, send)
            return
        headers = None
        if refused.status == 401:  # a browser asks for the key (as a password) on the dashboard; clients see Bearer
            headers = {"WWW-Authenticate": 'Bearer realm="sleepy"' if scope["path"].startswith("/v1/")
                       else 'Basic realm="sleepy", charset="UTF-8"'}
        await error(refused.status, str(refused), code=refused.code, headers=headers)(scope, receive, send)
