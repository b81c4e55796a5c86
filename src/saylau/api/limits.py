"""The request guard: body size per route, bearer check before large bodies, hostile text (ASGI middleware).

Every request passes here before authentication, routing and parsing:

1. path, query parameters and ``Idempotency-Key`` are checked for control characters
   (:mod:`saylau.api.textguard`; 422 naming the parameter);
2. the body is limited per route (:func:`route_limits`, sized to the largest legitimate payload):
   a ``Content-Length`` above the limit is refused at once, and the body is counted as it arrives
   (the header may be missing or lie), so nothing past the limit is ever read (413 naming the limit);
3. a route allowing a large body (a voter roll, a batch of ballots, a manifest: those of
   :func:`route_limits` that name their endpoint) checks the bearer token and the caller's role before
   reading any of the body (401/403), so an anonymous client cannot make the server hold a voter roll's
   worth of memory;
4. a JSON body is checked for refused characters and numbers (422 naming the JSON path), a CSV
   upload for NUL bytes (422 naming line and column; the voter roll's rows are checked one by one by
   ``saylau.election.voter_roll`` instead, so a partial import can skip a bad row).

The body read here is handed on to the application as one message, so it is read only once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl

from saylau.api.errors import clip
from saylau.api.json_body import PARSED_JSON
from saylau.api.roles import ENDPOINT_ROLES
from saylau.api.textguard import NOT_JSON, HostileInput, check_csv_bytes, check_json_body, check_text
from saylau.errors import AccessDenied

__all__ = [
    "DEFAULT_BODY_BYTES",
    "InputGuard",
    "RouteLimit",
    "route_limits",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KIB = 1024
MIB = 1024 * KIB
DEFAULT_BODY_BYTES = 1 * MIB
"""Any route not listed in ``route_limits``: a ballot (~4 KiB with 7 options), a protocol, a share."""

Kind = Literal["json", "csv", "raw"]


@dataclass(frozen=True)
class RouteLimit:
    """The body limit of one route: method, path pattern (after the API prefix), bytes, content check."""

    method: str
    pattern: re.Pattern[str]
    limit: int
    kind: Kind = "json"
    endpoint: str | None = None  # the ``roles.ENDPOINT_ROLES`` name: bearer checked before the body


def _route(
    method: str, path: str, limit: int, kind: Kind = "json", endpoint: str | None = None
) -> RouteLimit:
    regex = "^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(path)) + "$"
    return RouteLimit(method, re.compile(regex), limit, kind, endpoint)


def route_limits(roll_bytes: int, sheet_bytes: int) -> list[RouteLimit]:
    """The routes whose largest legitimate body differs from ``DEFAULT_BODY_BYTES``.

    Measured (docs/api.md, "Hostile input"): the kz-2022 manifest of 10,101 stations is 3.8 MiB; a
    batch of 1000 kz-2022 ballots (7 options, each with credential and device) 4.0 MiB; a guardian's
    partial decryptions of every scope (10,101 stations, 20 regions, the nation) 21.7 MiB; a voter-roll
    row 80-120 bytes (so the default 256 MiB takes ~2.5 M voters, a large region: a national roll goes
    up in parts, e.g. per region).
    """
    return [
        _route("POST", "/auth/login", 4 * KIB),
        _route("POST", "/elections", 16 * MIB, endpoint="create_election"),
        _route("POST", "/elections/{e}/roll", roll_bytes, "raw", "import_roll"),
        _route(
            "POST", "/elections/{e}/applications/{a}/signatures", sheet_bytes, "csv", "upload_signatures"
        ),
        _route("POST", "/elections/{e}/ballots/batch", 16 * MIB, endpoint="cast_ballot_batch"),
        _route("POST", "/elections/{e}/guardians/{i}/partial-decryption", 64 * MIB,
               endpoint="post_partial_decryption"),
        _route("PUT", "/elections/{e}/exit-polls/design", 16 * MIB, endpoint="upload_design"),
        _route("POST", "/elections/{e}/exit-polls", 16 * MIB, endpoint="upload_interviews"),
    ]


def _size(n: int) -> str:
    return f"{n // MIB} MiB" if n % MIB == 0 else f"{n // KIB} KiB" if n % KIB == 0 else f"{n} bytes"


async def _answer(
    send: Send, status: int, detail: str, error: str, headers: dict[str, str] | None = None
) -> None:
    body = json.dumps({"detail": clip(detail), "error": error}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 413:
        raw.append((b"connection", b"close"))
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _json_content(content_type: str | None) -> bool:
    """Whether the route's parser will read the body as JSON (FastAPI's rule: none, json, ``+json``)."""
    if not content_type:
        return True
    main = content_type.split(";", 1)[0].strip().lower()
    return main == "application/json" or (main.startswith("application/") and main.endswith("+json"))


class _TooLarge(Exception):
    pass


class InputGuard:
    """ASGI middleware applying the checks of this module; ``state`` resolves bearer tokens."""

    def __init__(
        self,
        app: ASGIApp,
        state: Any,
        prefix: str,
        limits: list[RouteLimit],
        paths: Callable[[], Iterable[str]] = tuple,
    ) -> None:
        """Wrap ``app``; ``prefix``: the API prefix of the patterns; ``paths()``: the route templates.

        The templates (``/api/v1/elections/{election_id}``) are read only to name the path parameter a
        refusal is about.
        """
        self.app = app
        self.state = state
        self.prefix = prefix
        self.limits = limits
        self.paths = paths

    def _limit(self, method: str, path: str) -> RouteLimit | None:
        if not path.startswith(self.prefix):
            return None
        rest = path[len(self.prefix):]
        for rule in self.limits:
            if rule.method == method and rule.pattern.match(rest):
                return rule
        return None

    def _path_parameter(self, path: str, index: int) -> str:
        """The name of the path parameter at segment ``index`` of ``path`` (for the refusal's message)."""
        segments = path.split("/")
        for template in self.paths():
            parts = template.split("/")
            if len(parts) != len(segments) or not parts[index].startswith("{"):
                continue
            if all(p == s or p.startswith("{") for p, s in zip(parts, segments, strict=True)):
                return f"path parameter '{parts[index][1:-1]}'"
        return f"path segment {segments[index][:32]!r}"

    def _check_url(self, scope: Scope, headers: dict[bytes, bytes]) -> None:
        path: str = scope.get("path", "")
        for i, segment in enumerate(path.split("/")):
            try:
                check_text(segment, "path")
            except HostileInput as exc:
                raise HostileInput(str(exc).replace("path", self._path_parameter(path, i), 1)) from None
        query: bytes = scope.get("query_string", b"")
        if query:
            for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
                check_text(name, f"query parameter {name[:32]!r}")
                check_text(value, f"query parameter {name[:32]!r}")
        key = headers.get(b"idempotency-key")
        if key is not None:
            check_text(key.decode("latin-1"), "header 'Idempotency-Key'")

    async def _early_auth(self, rule: RouteLimit, headers: dict[bytes, bytes]) -> tuple[int, str] | None:
        """401/403 (status, message) for a large-bodied route whose caller may not use it, else None."""
        assert rule.endpoint is not None
        auth = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return 401, f"{rule.endpoint}: a bearer token is required"
        token = token.strip()
        try:
            info = await self.state.token_lookups.resolve(self.state, token)
        except AccessDenied as exc:
            return 401, str(exc)
        if info.role not in ENDPOINT_ROLES[rule.endpoint]:
            return 403, f"{rule.endpoint}: role {info.role!r} may not do this"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check, read (bounded) and hand on one request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        try:
            self._check_url(scope, headers)
        except HostileInput as exc:
            await _answer(send, 422, str(exc), "ValidationError")
            return
        rule = self._limit(scope["method"], scope.get("path", ""))
        limit = DEFAULT_BODY_BYTES if rule is None else rule.limit
        if rule is not None and rule.endpoint is not None:
            refused = await self._early_auth(rule, headers)
            if refused is not None:
                status, message = refused
                extra = {"WWW-Authenticate": "Bearer"} if status == 401 else None
                await _answer(send, status, message, "AccessDenied", extra)
                return
        too_large = (
            f"request body exceeds the limit of {_size(limit)} for {scope['method']} {scope.get('path', '')}"
        )
        declared = headers.get(b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await _answer(send, 413, too_large, "PayloadTooLarge")
            return
        try:
            body = await self._read(receive, limit)
        except _TooLarge:
            await _answer(send, 413, too_large, "PayloadTooLarge")
            return
        if body is None:  # the client went away
            return
        try:
            kind = "json" if rule is None else rule.kind
            content_type = headers.get(b"content-type", b"").decode("latin-1")
            if kind == "json" and _json_content(content_type):
                parsed = check_json_body(body)
                if parsed is not NOT_JSON:
                    scope[PARSED_JSON] = parsed  # routes that read it need not parse the body again
            elif kind == "csv":
                check_csv_bytes(body, "field 'body'")
        except HostileInput as exc:
            await _answer(send, 422, str(exc), "ValidationError")
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _read(receive: Receive, limit: int) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _TooLarge
            if chunk:
                chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
