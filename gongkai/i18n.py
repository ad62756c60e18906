"""The site's two languages: Chinese (default) and English (`?_lang=en`).

One table of strings, `{key: {"zh": ..., "en": ...}}`, merged from every `*.yaml` file in
`gongkai/locales/` (each helper or feature keeps its own file, so nobody edits the same one; a
key defined twice is an error at import). Pages and plugins call `t(key, lang)`; templates get
versions bound to the request's language from `plugins/site_context.py`.

The language lives in the URL, never in a cookie: Datasette 0.65.3+ marks any response to a
request carrying a cookie `Cache-Control: private`, which would defeat every HTTP cache in front
of the site. `_lang` is `_`-prefixed because Datasette's table view ignores such arguments; a
plain `lang=` would become a column filter.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .locale_file import LOCALES_DIR, read_locale_file

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
PARAM = "_lang"
_HTML_LANG = {"zh": "zh-CN", "en": "en"}


def load_strings(folder: Path = LOCALES_DIR) -> dict[str, dict[str, str]]:
    """Every `*.yaml` in `folder` merged into one table; a key in two files is an error."""
    table: dict[str, dict[str, str]] = {}
    origin: dict[str, str] = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        for key, value in read_locale_file(path).items():
            if key in table:
                raise ValueError(f"string key {key!r} is defined in both {origin[key]} and {path.name}")
            table[key] = value
            origin[key] = path.name
    return table


STRINGS = load_strings()


_SCOPE_KEY = "gongkai.lang"


def lang_of(request) -> str:
    """The page's language: English only for `?_lang=en`; anything else is Chinese. Resolved
    once per request (kept in its ASGI scope): every plugin and template asks again."""
    if request is None:
        return DEFAULT_LANG
    scope = getattr(request, "scope", None)
    if scope is not None and _SCOPE_KEY in scope:
        return scope[_SCOPE_KEY]
    lang = "en" if request.args.get(PARAM) == "en" else DEFAULT_LANG
    if scope is not None:
        scope[_SCOPE_KEY] = lang
    return lang


def html_lang(lang: str) -> str:
    return _HTML_LANG.get(lang, _HTML_LANG[DEFAULT_LANG])


def other_lang(lang: str) -> str:
    return "zh" if lang == "en" else "en"


def t(key: str, lang: str, **fmt) -> str:
    """The string `key` in `lang` (falling back to the other language, then to the key itself,
    so a missing translation shows rather than breaking a page; tests check every key exists)."""
    entry = STRINGS.get(key)
    if entry is None:
        return key
    # English counts need a singular: an entry may give `en_one`, used when n == 1
    one = entry.get(f"{lang}_one") if fmt.get("n") == 1 else None
    text = one or entry.get(lang) or entry.get(DEFAULT_LANG) or next(iter(entry.values()), key)
    return text.format(**fmt) if fmt else text


def localized(value, lang: str):
    """A plain value as is; a `{zh, en}` dict as the one for `lang`, else the other one."""
    if isinstance(value, dict):
        found = value.get(lang)
        if found in (None, ""):
            found = value.get(other_lang(lang))
        if found in (None, ""):
            found = next((v for v in value.values() if v not in (None, "")), None)
        return found
    return value


def localized_field(row, key: str, lang: str):
    """`row[key]` in `lang` for catalogue rows: the original is in the dataset's own language,
    translations in `<key>_en` / `<key>_zh`; fall back to the original."""
    try:
        translated = row[f"{key}_{lang}"]
    except (KeyError, IndexError):
        translated = None
    if translated not in (None, ""):
        return translated
    try:
        return row[key]
    except (KeyError, IndexError):
        return None


def lang_url(url: str, lang: str) -> str:
    """`url` in `lang`: `_lang=en` added for English, removed for Chinese; other arguments,
    their order and the fragment are kept."""
    parts = urlsplit(url)
    args = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != PARAM]
    if lang == "en":
        args.append((PARAM, "en"))
    return urlunsplit(parts._replace(query=urlencode(args)))


def hidden_input(lang: str) -> str:
    """The form field that keeps a form's result page in `lang` (HTML; none for the default)."""
    return f'<input type="hidden" name="{PARAM}" value="{lang}">' if lang != DEFAULT_LANG else ""


def alternates(request) -> dict[str, str]:
    """This page in each language, as absolute paths (`/path?args`)."""
    return {lang: lang_url(request.full_path, lang) for lang in LANGS}
