"""The dataset cards written in Python (gongkai/portal/dataset_cards.py) are the markup the
list template wrote card by card: the same bytes for the same items, escaping included."""

from types import SimpleNamespace

from jinja2 import Environment
from markupsafe import Markup

from gongkai.portal.dataset_cards import cards

# templates/_portal_dataset_list.html as it was before the cards moved to Python.
JINJA_CARDS = """{%- set hl = heading_level or 3 %}
{%- set l_publisher, l_theme, l_updated, l_size, l_formats = labels %}
<ul class="dataset-list">
{%- for ds in datasets %}
  <li class="dataset-card">
    <h{{ hl }} class="dataset-card-title"><a href="{{ ds.url }}">{{ ds.display_title }}</a></h{{ hl }}>
    {%- if ds.display_summary %}
    <p class="dataset-card-summary">{{ ds.display_summary }}</p>
    {%- endif %}
    <dl class="dataset-card-meta">
      <div><dt>{{ l_publisher }}</dt><dd>{% if ds.publisher_url %}<a href="{{ ds.publisher_url }}">{{ ds.publisher_name }}</a>{% else %}{{ ds.publisher_name }}{% endif %}</dd></div>
      <div><dt>{{ l_theme }}</dt><dd>{% if ds.theme_url %}<a href="{{ ds.theme_url }}">{{ ds.theme_name }}</a>{% else %}{{ ds.theme_name }}{% endif %}</dd></div>
      <div><dt>{{ l_updated }}</dt><dd><time datetime="{{ ds.modified_day }}">{{ ds.modified_day }}</time></dd></div>
      <div><dt>{{ l_size }}</dt><dd>{{ ds.size_text }}</dd></div>
      <div><dt>{{ l_formats }}</dt><dd>{% for f in ds.formats %}<span class="pill">{{ f|upper }}</span>{% endfor %}</dd></div>
    </dl>
  </li>
{%- endfor %}
</ul>
"""


def item(**over):
    base = dict(
        url="/datasets/a?x=1&_lang=en",
        display_title='<script>alert("t")</script> & 标题',
        display_summary="Summary with <b>tags</b> & 'quotes'",
        publisher_name="Bureau & Co <x>",
        publisher_url="/publishers/p&q",
        theme_name='Health "care"',
        theme_url="/themes/health",
        modified_day="2024-05-01",
        size_text="1 table, 1,234 rows",
        formats=["csv", "xlsx<"],
    )
    return SimpleNamespace(**{**base, **over})


ITEMS = [
    item(),
    item(display_summary="", publisher_url=None, theme_url=None, formats=[]),
    item(publisher_name=None, theme_name=None, modified_day=""),
    item(display_title=Markup("<em>kept</em>")),
]


def test_cards_are_the_templates_markup():
    env = Environment(autoescape=True)
    labels = ("提供方", "主题 <&>", "更新", "规模", "格式")
    for level in (2, 3):
        for items in (ITEMS, ITEMS[:1], []):
            expected = env.from_string(JINJA_CARDS).render(datasets=items, heading_level=level, labels=labels)
            assert "\n" + cards(items, level, labels) == expected


def test_cards_escape_what_visitors_could_inject():
    html = cards(ITEMS[:1], 2, ("a", "b", "c", "d", "e"))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html and "p&amp;q" in html and "XLSX&lt;" in html
