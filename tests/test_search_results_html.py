"""gongkai.portal.search_results: the search page's result groups, escaped as the template was."""

from __future__ import annotations

from markupsafe import Markup

from gongkai.portal.search_results import groups

WORDS = {"search_rows_matched": "rows matched", "search_in_table": "In table", "search_see_all": "see all"}


def t(key, **_):
    return WORDS[key]


def group(**extra):
    return {
        "dataset": "roads",
        "url": "/datasets/roads?_lang=en",
        "title": "道路",
        "title_en": "Roads & <b>streets</b>",
        "count": 12345,
        "tables": [
            {
                "table": "repairs",
                "count": 12345,
                "url": "/roads/repairs?_search=x&_lang=en",
                "rows": [
                    {
                        "url": "/roads/repairs/1?_lang=en",
                        "highlights": {"name": "<mark>Main</mark> St &amp; 1st", "note": "a"},
                        "labels": {"district": "<script>"},
                    },
                    {"url": "/roads/repairs/2", "highlights": {"name": "<mark>Main</mark>"}, "labels": {}},
                ],
            }
        ],
        **extra,
    }


def columns(dataset, table):
    return {"name": {"title": "Street <name>"}, "district": {"title": None}}


def test_a_group_as_the_template_wrote_it():
    html = groups([group()], "en", t, lambda d, tb: {"title": "Repairs"}, columns)
    assert isinstance(html, Markup)
    assert '<h3><a href="/datasets/roads?_lang=en">Roads &amp; &lt;b&gt;streets&lt;/b&gt;</a>' in html
    assert '<span class="count">· 12,345 rows matched</span></h3>' in html
    assert (
        "<p>In table <strong>Repairs</strong> · 12,345 rows matched · "
        '<a href="/roads/repairs?_search=x&amp;_lang=en">see all</a></p>' in html
    )
    # highlights are the search's HTML (kept); column titles, labels and URLs are escaped;
    # a column without a title is shown by its name
    assert (
        '<li><a href="/roads/repairs/1?_lang=en"><span>Street &lt;name&gt;: <mark>Main</mark> St &amp; 1st</span>'
        " · <span>note: a</span></a>"
        ' <small class="hit-labels">district: &lt;script&gt;</small></li>' in html
    )
    assert '<li><a href="/roads/repairs/2"><span>Street &lt;name&gt;: <mark>Main</mark></span></a></li>' in html
    assert html.count('<ul class="results">') == 1 and html.count("</ul>") == 1


def test_chinese_title_and_fallbacks():
    zh = groups([group()], "zh", t, lambda d, tb: {}, lambda d, tb: {})
    assert '">道路</a>' in zh and "<strong>repairs</strong>" in zh  # no table title: its name
    untitled = groups([group(title=None, title_en=None)], "en", t, lambda d, tb: {}, lambda d, tb: {})
    assert '">roads</a>' in untitled  # no title in either language: the dataset's name
    assert groups([], "zh", t, lambda d, tb: {}, lambda d, tb: {}) == Markup("")
