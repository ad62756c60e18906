"""Every page type of the site, as (id, path) pairs the browser tests visit in both languages.

Paths are the Chinese (default) versions; `with_lang(path, "en")` adds `_lang=en`.
The ids are ASCII so test names (and screenshot file names) stay readable.
"""

from urllib.parse import quote

PAGES = [
    ("home", "/"),
    ("catalogue", "/datasets"),
    ("catalogue-filtered", "/datasets?theme=administrative-divisions"),
    ("catalogue-search", "/datasets?q=" + quote("行政区划")),
    ("dataset", "/datasets/cn-admin-divisions"),
    ("dataset-wide", "/datasets/uk-organisations"),
    ("report", "/datasets/core-gdp/report"),
    ("publisher", "/publishers/nbs"),
    ("theme", "/themes/economy"),
    ("about", "/about"),
    ("api", "/api"),
    ("licence", "/licence"),
    ("privacy", "/privacy"),
    ("search", "/-/search?q=" + quote("北京")),
    ("database", "/cn-admin-divisions"),
    ("table-filter", "/cn-admin-divisions/streets?areaCode=110101"),
    ("table-search", "/cn-admin-divisions/streets?_search=" + quote("朝阳")),
    ("table-wide", "/uk-organisations/organisation?_size=20"),
    ("row", "/cn-admin-divisions/provinces/11"),
    ("query", "/cn-admin-divisions?sql=" + quote("select code, name from provinces order by code limit 10")),
    ("not-found", "/no-such-page"),
    # a database error on the query page, and a statement the site refuses (the error page)
    ("query-error", "/cn-admin-divisions?sql=" + quote("select nope from provinces")),
    ("query-refused", "/cn-admin-divisions?sql=" + quote("update provinces set name = 'x'")),
]

# Pages answered with a status other than 200.
STATUS = {"not-found": 404, "query-error": 400, "query-refused": 400}

LANGS = ("zh", "en")
HTML_LANG = {"zh": "zh-CN", "en": "en"}

CASES = [(page_id, path, lang) for page_id, path in PAGES for lang in LANGS]
CASE_IDS = [f"{page_id}-{lang}" for page_id, _path, lang in CASES]
