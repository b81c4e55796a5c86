"""Rendering a page: the Jinja2 environment, the language of the request, formatting, cache headers."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_datetime_format, get_timezone_location
from babel.numbers import format_decimal, format_percent
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from saylau.web.i18n import LANG_COOKIE, babel_locale, choose_language, translations

__all__ = ["STATIC_DIR", "Page", "cached", "importmap"]

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
_ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(("html",)),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
# gettext, ngettext and _ come with each page's context (its language), not from the environment.


@cache
def importmap(static_prefix: str) -> str:
    """The ``make js`` import map with the static prefix, as a page's ``<script type="importmap">``."""
    path = STATIC_DIR / "vendor" / "importmap.json"
    raw: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    imports = {k: f"{static_prefix}/{v}" for k, v in raw["imports"].items()}
    return json.dumps({"imports": imports}, indent=1).replace("</", "<\\/")


class Page:
    """One request's page context: its language, the languages offered, and Babel formatting."""

    def __init__(self, request: Request, languages: tuple[str, ...]) -> None:
        self.request = request
        self.languages = languages
        self.lang = choose_language(
            languages,
            request.query_params.get("lang"),
            request.cookies,
            request.headers.get("accept-language"),
        )
        self.locale = babel_locale(self.lang)
        self._t = translations(self.lang)

    # --- strings and formats ------------------------------------------------------------------------

    def gettext(self, message: str, **values: Any) -> str:
        """The message in the page's language, ``%(name)s`` placeholders filled."""
        text = self._t.gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        """Singular or plural as the language's plural rule wants, ``%(num)s`` being ``n``."""
        values.setdefault("num", self.number(n))
        return self._t.ngettext(singular, plural, n) % values

    def number(self, value: float) -> str:
        """A number in the locale's format (grouping, decimal sign)."""
        return format_decimal(value, locale=self.locale)

    def percent(self, value: float, digits: int = 1) -> str:
        """A share as a percentage, ``digits`` decimals."""
        return format_percent(value, format="#,##0." + "0" * digits + "%", locale=self.locale)

    def datetime(self, at: dt.datetime, zone: str) -> str:
        """A moment as date and wall-clock time in the zone's local time (``zone`` is an IANA name)."""
        local = at.astimezone(ZoneInfo(zone))
        pattern = str(get_datetime_format("long", locale=self.locale))
        day = format_date(local, format="long", locale=self.locale)
        clock = format_time(local, format="short", locale=self.locale)
        return pattern.replace("{1}", day).replace("{0}", clock)

    def time(self, at: dt.datetime, zone: str) -> str:
        """A moment as the zone's local wall-clock time."""
        return format_time(at, format="short", tzinfo=ZoneInfo(zone), locale=self.locale)

    def zone_name(self, zone: str) -> str:
        """The zone's city in the locale ("Алматы" for Asia/Almaty), falling back to the IANA name."""
        try:
            return str(get_timezone_location(ZoneInfo(zone), locale=self.locale, return_city=True))
        except (LookupError, ValueError):
            return zone

    def language_name(self, lang: str) -> str:
        """A language's name in itself (the switch shows "Қазақша", "Русский", "English")."""
        name = babel_locale(lang).get_display_name(babel_locale(lang)) or lang
        return name[:1].upper() + name[1:]

    def url_in(self, lang: str) -> str:
        """The current page in ``lang`` (the same path and query, ``lang`` replaced)."""
        query = [(k, v) for k, v in self.request.query_params.multi_items() if k != "lang"]
        query.append(("lang", lang))
        return f"{self.request.url.path}?{urlencode(query)}"

    def static(self, path: str) -> str:
        """The URL of a static file."""
        return f"{self.request.scope.get('root_path', '')}/static/{path}"

    # --- rendering ----------------------------------------------------------------------------------

    def render(self, template: str, max_age: int = 10, **context: Any) -> Response:
        """The template rendered in the page's language, with an ETag and ``Cache-Control``."""
        html = _ENV.get_template(template).render(
            page=self,
            lang=self.lang,
            _=self.gettext,
            gettext=self.gettext,
            ngettext=self.ngettext,
            **context,
        )
        response = cached(self.request, html, max_age)
        if self.request.query_params.get("lang") == self.lang:
            response.set_cookie(LANG_COOKIE, self.lang, max_age=365 * 86400, samesite="lax")
            # a response that sets a cookie is for this browser alone
            response.headers["Cache-Control"] = f"private, max-age={max_age}"
        return response

    def importmap_tag(self) -> Markup:
        """The import map for pages that load the vendored ES modules."""
        prefix = f"{self.request.scope.get('root_path', '')}/static"
        return Markup('<script type="importmap">') + Markup(importmap(prefix)) + Markup("</script>")


def cached(request: Request, html: str, max_age: int) -> Response:
    """An HTML response with a strong ETag of its body; ``304`` when the client already has it.

    Public pages change when the election does, so ``max-age`` is short and the ETag lets a cache
    revalidate cheaply; the response varies with the language inputs (cookie and ``Accept-Language``).
    """
    body = html.encode("utf-8")
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={max_age}",
        "Vary": "Accept-Language, Cookie",
    }
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return HTMLResponse(body, headers=headers)
