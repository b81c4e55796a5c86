"""What the staff commands share: passphrases, logins, the server's API over httpx, JSON files.

Secrets are asked for in this order: a file named by ``--passphrase-file`` (its first line), the
environment (``SAYLAU_PASSPHRASE`` for a secret file, ``SAYLAU_PASSWORD`` for a login), else a prompt
that does not echo. A server's refusal becomes a :class:`ServerRefused` whose one line is the
server's own ``detail`` (``saylau.cli.failures`` prints it), never a traceback.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from saylau.crypto.keyfile import MIN_NEW_PASSPHRASE
from saylau.errors import SaylauError

if TYPE_CHECKING:
    import httpx

__all__ = [
    "API_PREFIX",
    "Server",
    "ServerRefused",
    "StaffError",
    "login_password",
    "passphrase",
    "read_json",
    "write_json",
]

API_PREFIX = "/api/v1"
"""Where the server's API lives under its URL (``saylau.api.API_PREFIX``; not imported: no server extra)."""


class StaffError(SaylauError):
    """A staff command cannot go on: a missing option, a file of the wrong kind, a step out of order."""


class ServerRefused(SaylauError):
    """The server answered a staff command's request with an error."""


def _client(base_url: str) -> httpx.Client:
    import httpx

    return httpx.Client(base_url=base_url, timeout=httpx.Timeout(120.0, connect=10.0))


client_factory: Callable[[str], httpx.Client] = _client
"""How a command opens its connection to a server URL (tests put an in-process server here)."""


def _first_line(path: Path) -> str:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    if not lines or not lines[0]:
        raise StaffError(f"{path}: empty first line (the passphrase file holds the passphrase on line 1)")
    return lines[0]


def passphrase(passphrase_file: Path | None, *, new: bool, what: str) -> str:
    """A secret file's passphrase; a new one is asked twice, ``MIN_NEW_PASSPHRASE`` characters at least."""
    if passphrase_file is not None:
        value = _first_line(passphrase_file)
    elif os.environ.get("SAYLAU_PASSPHRASE"):
        value = os.environ["SAYLAU_PASSPHRASE"]
    else:
        value = typer.prompt(f"passphrase of {what}", hide_input=True, confirmation_prompt=new)
    if new and len(value) < MIN_NEW_PASSPHRASE:
        raise StaffError(
            f"passphrase of {what}: at least {MIN_NEW_PASSPHRASE} characters (a few words will do)"
        )
    return value


def login_password(password_file: Path | None, username: str) -> str:
    """The password of a server login: ``--password-file``, ``$SAYLAU_PASSWORD``, else a prompt."""
    if password_file is not None:
        return _first_line(password_file)
    return os.environ.get("SAYLAU_PASSWORD") or typer.prompt(f"password of {username}", hide_input=True)


def read_json(path: Path, what: str) -> Any:
    """A JSON file; ``StaffError`` names the file and what it should hold."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise StaffError(f"{path}: not JSON ({exc.msg} at line {exc.lineno}); expected {what}") from None
    except UnicodeDecodeError:
        raise StaffError(f"{path}: not UTF-8 text; expected {what}") from None


def write_json(path: Path | None, doc: Any) -> None:
    """Write ``doc`` as JSON to ``path``, or to standard output when ``path`` is None or ``-``."""
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    if path is None or str(path) == "-":
        typer.echo(text, nl=False)
    else:
        Path(path).write_text(text, encoding="utf-8")


class Server:
    """A logged-in (or anonymous) connection to a saylau server's API."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._http = client_factory(self.url)
        self._headers: dict[str, str] = {}

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        if client_factory is _client:
            self._http.close()

    def login(self, username: str, password: str) -> None:
        """Log in; the token is sent with every later request."""
        answer = self.request("POST", "/auth/login", body={"username": username, "password": password})
        self._headers = {"Authorization": f"Bearer {answer['token']}"}

    def request(self, method: str, path: str, *, body: Any = None, idempotency_key: str | None = None) -> Any:
        """Send one request to ``/api/v1{path}``; the decoded JSON answer, or ``ServerRefused``."""
        import httpx

        headers = dict(self._headers)
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        try:
            r = self._http.request(method, f"{API_PREFIX}{path}", json=body, headers=headers)
        except httpx.TransportError as exc:
            raise ServerRefused(
                f"cannot reach the server at {self.url}: {exc or type(exc).__name__}"
            ) from None
        if r.status_code >= 400:
            try:
                detail = r.json().get("detail", r.text)
            except ValueError:
                detail = r.text
            if not isinstance(detail, str):
                detail = json.dumps(detail, ensure_ascii=False)[:300]
            raise ServerRefused(f"the server refused {method} {path} ({r.status_code}): {detail}")
        return r.json()

    def get(self, path: str) -> Any:
        """``GET`` a JSON document."""
        return self.request("GET", path)

    def post(self, path: str, body: Any = None, idempotency_key: str | None = None) -> Any:
        """``POST`` a JSON body."""
        return self.request("POST", path, body=body, idempotency_key=idempotency_key)
