"""Rendered public pages kept in memory, served again until the election changes (election-night load).

A cached page's key is (path, query, language, the election's *public state*). The public state is read
from the database on every request, by one small indexed query (:class:`StateReader`):

- the election's phase and its board head (position and entry hash): every write a public page shows —
  a turnout snapshot, a protocol, a phase change, the results, a registration decision, a voter roll —
  is published on the board in the same transaction as the rows it reports, so the head moves with
  every such commit;
- the last exit-poll interview's id (interviews are not published on the board; their ids only grow);
- whether the exit-poll embargo has lifted (the one thing that changes with the clock).

A page rendered from a snapshot is stored under the state read *before* its data, so a request that
reads the same state gets data at least as new as what it would read itself: a page is never served
after a change it does not show, whichever process (uvicorn worker, another server on the same
PostgreSQL) committed the change, and nothing has to be told to forget anything.

A route uses it by calling :func:`serve` with a function that renders the page; registering its path
with :func:`fast_path` lets :class:`PageFastPath`, an ASGI middleware outside FastAPI's routing,
answer a request whose page is cached without entering the application at all. Bodies are kept as
they are and gzip-compressed once, with a strong ETag per encoding; ``If-None-Match`` gets a 304.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, MutableMapping
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any

from sqlalchemy import Engine, bindparam, func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request, cookie_parser
from starlette.responses import Response

from saylau.api.common import get_election
from saylau.api.errors import NotFound
from saylau.api.routes_polls import embargo_for
from saylau.polls.embargo import Embargo
from saylau.store.models import BoardHead, Election, ExitPollInterview
from saylau.web.i18n import LANG_COOKIE, choose_language

__all__ = [
    "CACHE_SIZE",
    "ElectionFacts",
    "PageCache",
    "PageFastPath",
    "StateReader",
    "capture",
    "fast_path",
    "page_cache",
    "serve",
]

CACHE_SIZE = 512
"""Rendered pages kept per server (each a few tens of KB, twice: plain and gzip)."""
RENDERERS = 4
"""Pages rendered at once per server process (the others wait, holding no database connection)."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

State = tuple[Hashable, ...]
Key = tuple[str, str, str, State]


@dataclass(frozen=True)
class ElectionFacts:
    """What never changes for an election: its languages (the manifest's) and its exit-poll embargo."""

    languages: tuple[str, ...]
    embargo: Embargo


HTML = b"text/html; charset=utf-8"
PAGE_VARY = b"Accept-Language, Cookie, Accept-Encoding"


@dataclass(frozen=True)
class Entry:
    """One answer: its body as is and gzip-compressed, each with its strong ETag, and its type."""

    body: bytes
    etag: str
    gzip_body: bytes
    gzip_etag: str
    content_type: bytes = HTML
    vary: bytes = PAGE_VARY

    @classmethod
    def of(cls, body: bytes, content_type: bytes = HTML, vary: bytes = PAGE_VARY) -> Entry:
        digest = hashlib.sha256(body).hexdigest()[:32]
        return cls(body, f'"{digest}"', gzip.compress(body, 6, mtime=0), f'"{digest}-gzip"', content_type,
                   vary)


class StateReader:
    """Reads an election's public state (see the module's docstring) with one indexed query.

    It keeps one driver connection of its own, in autocommit (each query sees the latest commit and
    no transaction stays open; on SQLite ``make_engine`` already leaves the driver in autocommit),
    outside the application's pool (a busy pool never delays it), and runs the query compiled once
    for the dialect, without SQLAlchemy's per-execution work: it is a primary-key lookup, run on the
    event loop's thread by :class:`PageFastPath`.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._conn: Any = None
        self._closer: Callable[[], Any] = lambda: None
        query = (
            select(Election.phase, BoardHead.position, BoardHead.entry_hash,
                   select(func.max(ExitPollInterview.id))
                   .where(ExitPollInterview.election_id == Election.id).scalar_subquery())
            .join(BoardHead, BoardHead.election_id == Election.id, isouter=True)
            .where(Election.id == bindparam("election_id"))
        )
        compiled = query.compile(dialect=engine.dialect)
        self._sql = str(compiled)
        self._positional = compiled.positiontup if compiled.positional else None

    def read(self, election_id: str, facts: ElectionFacts) -> State | None:
        """The election's public state, or None if there is no such election."""
        with self._lock:
            try:
                row = self._execute(election_id)
            except Exception:
                self.close()  # a broken connection (a restarted database): try once on a new one
                row = self._execute(election_id)
        if row is None:
            return None
        phase, position, entry_hash, interview = row
        return (str(phase), -2 if position is None else int(position), entry_hash, interview,
                facts.embargo.lifted())

    def _execute(self, election_id: str) -> Any:
        if self._conn is None:
            fairy = self.engine.raw_connection()  # with make_engine's settings (pragmas, search path)
            if self.engine.dialect.name != "sqlite":
                fairy.driver_connection.autocommit = True  # type: ignore[union-attr]
            self._conn = fairy
            # closed when the reader goes (the app's engine.dispose() leaves checked-out connections)
            self._closer = weakref.finalize(self, _close_quietly, fairy)
        params: Any = {"election_id": election_id}
        if self._positional is not None:
            params = tuple(params[name] for name in self._positional)
        cursor = self._conn.cursor()
        try:
            cursor.execute(self._sql, params)
            return cursor.fetchone()
        finally:
            cursor.close()

    def close(self) -> None:
        """Close its connection (the next read opens another)."""
        if self._conn is not None:
            self._conn = None
            self._closer()


def _close_quietly(fairy: Any) -> None:
    with contextlib.suppress(Exception):  # already broken
        fairy.invalidate()


class StateBatches:
    """Reads of the public state shared by the requests that arrive while the previous read runs.

    A request waits for the next read to *start*, never for one already under way: a read started
    after a request arrived sees every commit made before it, so sharing it keeps the guarantee of
    the module's docstring. The reads run in the thread pool, one at a time per election, so a
    PostgreSQL round trip neither blocks the event loop nor is paid once per request under load.
    """

    def __init__(self, reader: StateReader) -> None:
        self.reader = reader
        self._next: dict[str, asyncio.Future[State | None]] = {}
        self._busy: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def read(self, election_id: str, facts: ElectionFacts) -> State | None:
        """The state as of a moment after this call began."""
        loop = asyncio.get_running_loop()
        waiting = self._next.get(election_id)
        if waiting is None or waiting.get_loop() is not loop:
            waiting = self._next[election_id] = loop.create_future()
            if election_id not in self._busy:
                self._start(election_id, facts)
        return await asyncio.shield(waiting)  # a client that goes away cancels only its own wait

    def _start(self, election_id: str, facts: ElectionFacts) -> None:
        waiting = self._next.pop(election_id)
        self._busy.add(election_id)
        task = asyncio.ensure_future(self._run(election_id, facts, waiting))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(
        self, election_id: str, facts: ElectionFacts, waiting: asyncio.Future[State | None]
    ) -> None:
        try:
            waiting.set_result(await run_in_threadpool(self.reader.read, election_id, facts))
        except Exception as exc:  # every waiter gets it (the middleware then passes to the application)
            waiting.set_exception(exc)
        finally:
            self._busy.discard(election_id)
            if election_id in self._next:
                self._start(election_id, facts)


@dataclass
class PageCache:
    """One server's rendered pages (LRU) and each election's fixed facts."""

    reader: StateReader
    sessions: Callable[[], Any]
    size: int = CACHE_SIZE
    pages: OrderedDict[Key, Entry] = field(default_factory=OrderedDict)
    facts: dict[str, ElectionFacts] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rendering: dict[Key, threading.Lock] = field(default_factory=dict)
    # renderings at once: they hold database connections (two each with exit polls) and contend for
    # the GIL, so a flood of misses (a query string made up per request) queues instead of taking
    # every connection of the pool
    _renderers: threading.BoundedSemaphore = field(
        default_factory=partial(threading.BoundedSemaphore, RENDERERS))
    hits: int = 0
    renders: int = 0
    batches: StateBatches = field(init=False)

    def __post_init__(self) -> None:
        self.batches = StateBatches(self.reader)

    async def state_now(self, election_id: str, facts: ElectionFacts) -> State | None:
        """The public state for a request being answered on the event loop.

        SQLite is a local file: its primary-key lookup (~15 µs) runs right there. Another database is a
        round trip away: reads are shared by the requests waiting for them (``StateBatches``).
        """
        if self.reader.engine.dialect.name == "sqlite":
            return self.reader.read(election_id, facts)
        return await self.batches.read(election_id, facts)

    def election_facts(self, session: Session, election_id: str) -> ElectionFacts:
        """The election's languages and embargo (read once; the manifest never changes)."""
        facts = self.facts.get(election_id)
        if facts is None:
            e = get_election(session, election_id)
            facts = self.facts[election_id] = ElectionFacts(tuple(e.manifest["name"]), embargo_for(e))
        return facts

    def facts_or_none(self, election_id: str) -> ElectionFacts | None:
        """The election's facts read on a session of its own; None if there is no such election."""
        with self.sessions() as session:
            try:
                return self.election_facts(session, election_id)
            except NotFound:
                return None

    def put(self, key: Key, entry: Entry) -> None:
        with self._lock:
            self.pages[key] = entry
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)

    def get(self, key: Key) -> Entry | None:
        entry = self.pages.get(key)
        if entry is not None:
            self.hits += 1
        return entry

    def render_once(self, key: Key, render: Callable[[], str]) -> Entry:
        """The page under ``key``, rendered by one thread while others asking for it wait for it."""
        entry = self.pages.get(key)
        if entry is not None:
            return entry
        with self._lock:
            lock = self._rendering.setdefault(key, threading.Lock())
        with lock:
            entry = self.pages.get(key)
            if entry is None:
                with self._renderers:
                    entry = Entry.of(render().encode("utf-8"))
                self.renders += 1
                self.put(key, entry)
        with self._lock:
            self._rendering.pop(key, None)
        return entry


def page_cache(app: Any) -> PageCache:
    """The application's page cache (one per app: tests run several apps in one process)."""
    cache: PageCache | None = getattr(app.state, "page_cache", None)
    if cache is None:
        state = app.state.saylau
        engine = state.read_sessions.kw["bind"] if state.read_sessions is not None else state.engine
        cache = app.state.page_cache = PageCache(StateReader(engine), state.reading)
    return cache


@lru_cache(maxsize=4096)
def _language(languages: tuple[str, ...], query: bytes, cookie: str, accept: str | None) -> tuple[str, bool]:
    """The page's language (as :class:`saylau.web.rendering.Page` chooses it) and whether ``?lang=`` chose it.

    Computed from the raw request exactly as Starlette parses it for the route, so the fast path and
    the route agree on the key.
    """
    asked = QueryParams(query.decode("latin-1")).get("lang")
    lang = choose_language(languages, asked, cookie_parser(cookie), accept)
    return lang, asked == lang


def _key(path: str, query: bytes, lang: str, state: State) -> Key:
    return (path, query.decode("latin-1"), lang, state)


def _headers(scope_headers: dict[bytes, bytes], entry: Entry, chosen: bool, max_age: int
             ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, headers and body of the answer to a request for ``entry``."""
    accepts_gzip = b"gzip" in scope_headers.get(b"accept-encoding", b"")
    body, etag = (entry.gzip_body, entry.gzip_etag) if accepts_gzip else (entry.body, entry.etag)
    headers = [
        (b"etag", etag.encode()),
        (b"cache-control", f"{'private' if chosen else 'public'}, max-age={max_age}".encode()),
        (b"vary", entry.vary),
    ]
    inm = scope_headers.get(b"if-none-match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.decode("latin-1").split(",")}
        if "*" in tags or etag in tags:
            return 304, headers, b""
    headers.append((b"content-type", entry.content_type))
    if accepts_gzip:
        headers.append((b"content-encoding", b"gzip"))
    headers.append((b"content-length", str(len(body)).encode()))
    return 200, headers, body


def _cookie(lang: str) -> tuple[bytes, bytes]:
    return (b"set-cookie", f"{LANG_COOKIE}={lang}; Max-Age={365 * 86400}; Path=/; SameSite=lax".encode())


def serve(request: Request, state: Any, election_id: str, render: Callable[[Session], str | Response],
          max_age: int = 10) -> Response:
    """The page of ``request`` for ``election_id``: from the cache, else ``render(session)`` stored.

    ``render`` builds the page's HTML on a session of its own (a ``Response`` it returns, such as a
    404 page, is sent as is and not cached). The answer carries the ETag, ``Cache-Control:
    public, max-age=<max_age>`` (``private`` when ``?lang=`` sets the language cookie), ``Vary``,
    gzip when accepted, and is a 304 when ``If-None-Match`` names it.
    """
    cache = page_cache(request.app)
    with state.reading() as session:
        try:
            facts = cache.election_facts(session, election_id)
        except NotFound:
            facts = None
    if facts is None:
        with state.reading() as session:
            out = render(session)
        assert isinstance(out, Response), "render() must answer for an election that does not exist"
        return out
    current = cache.reader.read(election_id, facts)  # before the data: see the module's docstring
    scope = request.scope
    headers = dict(scope["headers"])
    lang, chosen = _language(facts.languages, scope.get("query_string", b""),
                             headers.get(b"cookie", b"").decode("latin-1"),
                             headers.get(b"accept-language", b"").decode("latin-1") or None)
    if current is None:
        with state.reading() as session:
            out = render(session)
        assert isinstance(out, Response)
        return out
    key = _key(scope["path"], scope.get("query_string", b""), lang, current)
    refused: list[Response] = []

    def build() -> str:
        with state.reading() as session:
            out = render(session)
        if isinstance(out, Response):
            refused.append(out)
            raise _NotCached
        return out

    try:
        entry = cache.render_once(key, build)
    except _NotCached:
        return refused[0]
    status, hdrs, body = _headers(headers, entry, chosen, max_age)
    response = Response(body, status_code=status)
    response.raw_headers = [*hdrs, *([_cookie(lang)] if chosen else [])]
    return response


class _NotCached(Exception):
    """render() answered with a response of its own (not cached)."""


@dataclass(frozen=True)
class _Route:
    pattern: re.Pattern[str]
    max_age: int
    capture: bool  # an API answer kept as the application sent it (``capture``), not a page


_FAST: list[_Route] = []


def _register(template: str, max_age: int, capture: bool) -> str:
    regex = "^" + re.escape(template).replace(re.escape("{election_id}"), "(?P<election_id>[^/]+)") + "$"
    if all(r.pattern.pattern != regex for r in _FAST):
        _FAST.append(_Route(re.compile(regex), max_age, capture))
    return template


def fast_path(template: str, max_age: int = 10) -> str:
    """Register a page's path (``/elections/{election_id}/results``) for :class:`PageFastPath`.

    The page's route answers with :func:`serve`. The template names the election as
    ``{election_id}``; its other segments are literal. Returns the template, so a route can write
    ``@router.get(fast_path("/elections/{election_id}/x"))``.
    """
    return _register(template, max_age, capture=False)


def capture(template: str, max_age: int = 10) -> str:
    """Register a public API path whose anonymous ``200`` answers :class:`PageFastPath` keeps and replays.

    Only for a route whose answer to a caller without credentials depends on nothing but its path,
    its query and the election's public state (``GET /api/v1/elections/{election_id}/results``).
    A request with an ``Authorization`` header always goes to the route.
    """
    return _register(template, max_age, capture=True)


Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


class PageFastPath:
    """ASGI middleware: a GET of a registered path already cached for the current state is answered here.

    It costs the state query and a dictionary lookup, without FastAPI's routing, dependencies or
    thread pool. Anything else (a miss, an unknown election, another path) goes on to the application:
    a page's route renders and caches the page; a captured API answer is kept on its way out. Only
    answers the application made are ever replayed, so its input checks have run on every path and
    query answered here.
    """

    def __init__(self, app: ASGIApp, cached: Callable[[], PageCache]) -> None:
        self.app = app
        self.cached = cached

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = m = None
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope["path"]
            route, m = next(((r, m) for r in _FAST if (m := r.pattern.match(path)) is not None), (None, None))
        if route is None or m is None:
            await self.app(scope, receive, send)
            return
        cache = self.cached()
        election_id = m.group("election_id")
        headers = dict(scope["headers"])
        facts = cache.facts.get(election_id)
        if facts is None and route.capture:
            try:
                facts = await run_in_threadpool(cache.facts_or_none, election_id)
            except Exception:  # an id the database refuses (the input guard, inside, answers it)
                facts = None
        current = None
        if facts is not None and not (route.capture and b"authorization" in headers):
            try:
                current = await cache.state_now(election_id, facts)
            except Exception:  # the application answers (and reports) a database failure
                current = None
        if current is None or facts is None:
            await self.app(scope, receive, send)
            return
        query: bytes = scope.get("query_string", b"")
        lang, chosen = ("", False) if route.capture else _language(
            facts.languages, query, headers.get(b"cookie", b"").decode("latin-1"),
            headers.get(b"accept-language", b"").decode("latin-1") or None)
        key = _key(scope["path"], query, lang, current)
        entry = cache.get(key)
        if entry is None and route.capture:
            entry = await _captured(self.app, scope, receive, send, cache, key)
            if entry is None:
                return  # the application answered (not a 200: sent as it was)
        elif entry is None:
            await self.app(scope, receive, send)
            return
        status, hdrs, body = _headers(headers, entry, chosen, route.max_age)
        if chosen:
            hdrs.append(_cookie(lang))
        await send({"type": "http.response.start", "status": status, "headers": hdrs})
        await send({"type": "http.response.body", "body": body})


async def _captured(app: ASGIApp, scope: Scope, receive: Receive, send: Send, cache: PageCache, key: Key
                    ) -> Entry | None:
    """Run the application; keep its ``200`` (returned, not yet sent), pass anything else on as it is."""
    start: Message | None = None
    chunks: list[bytes] = []
    passing = False

    async def keep(message: Message) -> None:
        nonlocal start, passing
        if message["type"] == "http.response.start":
            if message["status"] == 200:
                start = message
            else:
                passing = True
        if passing:
            await send(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    if passing or start is None:
        return None
    types = [v for k, v in start.get("headers", []) if k.lower() == b"content-type"]
    entry = Entry.of(b"".join(chunks), types[0] if types else b"application/octet-stream", b"Accept-Encoding")
    cache.put(key, entry)
    return entry
