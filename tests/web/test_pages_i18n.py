"""The catalogues: every message translated into kk and ru, placeholders kept; the language choice."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from saylau.web.i18n import LOCALE_DIR, choose_language, translations
from saylau.web.rendering import importmap

LANGS = ("kk", "ru", "en")


def _catalog(lang: str):  # type: ignore[no-untyped-def]
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def test_template_messages_are_all_in_each_catalogue() -> None:
    with (LOCALE_DIR / "messages.pot").open("rb") as fh:
        template = {m.id for m in read_po(fh) if m.id}
    for lang in LANGS:
        cat = _catalog(lang)
        ids = {m.id for m in cat if m.id}
        assert template <= ids, f"{lang}: run `make messages`; missing {template - ids}"
        for m in cat:
            if m.id:
                # a plural message: every form keeps the plural source's placeholders
                ids, strings = (m.id, m.string) if m.pluralizable else ((m.id,), (m.string,))
                assert all(strings), f"{lang}: {m.id!r} is not translated"
                assert "fuzzy" not in m.flags, f"{lang}: {m.id!r} is fuzzy"
                wanted = sorted(re.findall(r"%\(\w+\)s", ids[-1]))
                for string in strings:
                    assert sorted(re.findall(r"%\(\w+\)s", string)) == wanted, f"{lang}: {m.id!r}"
                if lang != "en":
                    assert strings != ids or m.id in ("Site",), f"{lang}: {m.id!r} left in English"


def test_translations_compile_in_memory_and_unknown_languages_show_the_source() -> None:
    assert translations("ru").gettext("Elections") == "Выборы"
    assert translations("kk").gettext("Elections") == "Сайлаулар"
    assert translations("de").gettext("Elections") == "Elections"


@pytest.mark.parametrize(
    ("query", "cookie", "header", "expected"),
    [
        ("ru", "en", "kk", "ru"),
        (None, "en", "ru", "en"),
        ("xx", None, "ru-RU,ru;q=0.9", "ru"),
        (None, "de", "en-GB;q=0.8, kk;q=0.9", "kk"),
        (None, None, "ja, *;q=0.1", "kk"),
        (None, None, None, "kk"),
    ],
)
def test_choose_language(query: str | None, cookie: str | None, header: str | None, expected: str) -> None:
    cookies = {"saylau_lang": cookie} if cookie else {}
    assert choose_language(("kk", "ru", "en"), query, cookies, header) == expected


def test_importmap_gets_the_static_prefix() -> None:
    text = importmap("/static")
    assert '"@noble/curves/": "/static/vendor/@noble/curves/"' in text
