"""Interface strings through gettext (Babel): catalogues per language, and choosing the page's language.

The catalogues are ``locale/<lang>/LC_MESSAGES/messages.po`` beside this module. They are compiled in
memory the first time a language is asked for (``babel.messages``), so no ``.mo`` file is committed or
built: editing a ``.po`` and restarting the server is enough. A language with no catalogue (a scenario
in a language nobody translated yet) shows the source strings (English) with its own names and its
own number and date formats.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

__all__ = ["LANG_COOKIE", "LOCALE_DIR", "babel_locale", "choose_language", "translations"]

LOCALE_DIR = Path(__file__).parent / "locale"
LANG_COOKIE = "saylau_lang"


@cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalogue of ``lang`` (empty translations when there is none)."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if not po.is_file():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


@cache
def babel_locale(lang: str) -> Locale:
    """Babel's locale for a language code (``pt-BR`` → ``pt_BR``); English where CLDR has no data."""
    try:
        return Locale.parse(lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def _accepted(header: str) -> list[str]:
    """The languages of an ``Accept-Language`` header, best first (q=0 dropped)."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > 0:
            ranked.append((-q, i, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def choose_language(
    offered: Sequence[str], query: str | None, cookies: Mapping[str, str], accept_language: str | None
) -> str:
    """The page's language: ``?lang=``, then the cookie, then ``Accept-Language``, then the first offered.

    Only a language the election offers is ever chosen; an unknown ``?lang=`` or cookie is ignored.
    """
    for candidate in (query, cookies.get(LANG_COOKIE)):
        if candidate is not None and candidate in offered:
            return candidate
    if accept_language:
        best: str | None = negotiate_locale(_accepted(accept_language), list(offered), sep="-")
        if best is not None:
            return best
    return offered[0]
