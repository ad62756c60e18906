"""Search results equal the ground truth on ≥1,000 queries sampled from the indexed text itself.

The oracle here is written independently of gongkai.search.tokens: a regular expression per
query term over the normalised text of each cell. Chinese pieces are plain substrings (what a
LIKE scan finds); Latin pieces are whole words, or word prefixes at the end of an unquoted
term; inside one term two CJK runs need at least one separator between them where the query
has one, and a word next to CJK text may or may not be separated from it.
"""

from __future__ import annotations

import random
import re
import sqlite3

import pytest

from gongkai.search import index_tokens, match_expression, normalize, parse, query as search_query
from gongkai.search.index import create_index, read_indexes
from gongkai.search.query import few_matches, matching_rowids

CJK = "\u3400-\u4dbf\u4e00-\u9fff"
W = rf"[^\W_{CJK}]"
NOT_W = rf"(?!{W})"
SEP = rf"[^{CJK}]" + r"(?<![^\W_" + CJK + "])"  # a character that is neither CJK nor a word character
PIECE = re.compile(rf"[{CJK}]+|{W}+")

ZH = [
    "维修",
    "保养",
    "政府",
    "采购",
    "项目",
    "北京市",
    "教育局",
    "資料",
    "资料",
    "數據",
    "数据",
    "公开",
    "服务",
    "道路",
    "養護",
    "养护",
    "医疗器械",
    "校舍",
    "年",
    "第",
    "包",
    "含",
    "市",
    "修",
    "保",
    "设备",
    "設備",
]
EN = [
    "Open",
    "open",
    "data",
    "Database",
    "budget",
    "Budgets",
    "road",
    "repair",
    "café",
    "2023",
    "2015",
    "v2",
    "ＡＢＣ",
    "２０２３",
    "abc",
]
SEPS = ["，", "、", " ", "-", "/", "（", "）", '"', "。", "", "", "", ""]
ABSENT_ZH = "鑫龘犇麤靐"


def make_text(rnd: random.Random) -> str:
    out = []
    for _ in range(rnd.randint(1, 8)):
        out.append(rnd.choice(ZH) if rnd.random() < 0.6 else rnd.choice(EN))
        out.append(rnd.choice(SEPS))
    if rnd.random() < 0.05:
        out.append("维修，保养")
    return "".join(out)


def term_regex(text: str, quoted: bool) -> re.Pattern | None:
    norm = normalize(text)
    pieces = [(m.group(), m.start(), m.end()) for m in PIECE.finditer(norm)]
    if not pieces:
        return None
    parts = []
    for i, (piece, _start, _end) in enumerate(pieces):
        is_cjk = bool(re.fullmatch(f"[{CJK}]+", piece))
        if i:
            prev_cjk = bool(re.fullmatch(f"[{CJK}]+", pieces[i - 1][0]))
            if prev_cjk and is_cjk or not prev_cjk and not is_cjk:
                parts.append(f"(?:{SEP})+")
            else:
                parts.append(f"(?:{SEP})*")
        if is_cjk:
            parts.append(re.escape(piece))
        else:
            last = i == len(pieces) - 1
            parts.append(rf"(?<!{W})" + re.escape(piece) + ("" if last and not quoted else NOT_W))
    return re.compile("".join(parts))


def oracle(rows: dict[int, list[str]], query: str) -> set[int]:
    regexes = [r for r in (term_regex(t.text, t.quoted) for t in parse(query)) if r]
    return {rid for rid, cells in rows.items() if all(any(r.search(c) for c in cells) for r in regexes)}


@pytest.fixture(scope="module")
def corpus():
    rnd = random.Random(4)
    conn = sqlite3.connect(":memory:")
    conn.execute("create table t (id integer primary key, 名称 text, 描述 text, 代码 text)")
    rows = [(i, make_text(rnd), make_text(rnd) if rnd.random() < 0.7 else None, f"X{i:05d}") for i in range(1, 2001)]
    conn.executemany("insert into t values (?, ?, ?, ?)", rows)
    create_index(conn, "t", ["名称", "描述"])
    normalised = {r[0]: [normalize(c) for c in r[1:3] if c] for r in rows}
    return conn, rows, normalised


def sample_queries(rows, n: int, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    queries = []
    while len(queries) < n:
        text = rnd.choice(rows)[rnd.choice([1, 2])] or rows[0][1]
        kind = rnd.random()
        runs = re.findall(rf"[{CJK}]+", text)
        words = re.findall(rf"{W}+", text)
        if kind < 0.35 and runs:  # a Chinese substring of 1–6 characters of one run
            run = rnd.choice(runs)
            k = rnd.randint(1, min(6, len(run)))
            s = rnd.randint(0, len(run) - k)
            queries.append(run[s : s + k])
        elif kind < 0.5:  # any substring, separators and Latin included
            k = rnd.randint(1, 6)
            s = rnd.randint(0, max(0, len(text) - k))
            queries.append(text[s : s + k])
        elif kind < 0.65 and words:  # an English word or a prefix of one
            w = rnd.choice(words)
            queries.append(w[: rnd.randint(1, len(w))])
        elif kind < 0.8 and runs and words:  # mixed, several terms
            run = rnd.choice(runs)
            queries.append(f"{run[: rnd.randint(1, min(4, len(run)))]} {rnd.choice(words)}")
        elif kind < 0.88:  # a quoted phrase
            k = rnd.randint(2, 8)
            s = rnd.randint(0, max(0, len(text) - k))
            queries.append(f'"{text[s : s + k]}"')
        else:  # must find nothing
            queries.append(
                rnd.choice([rnd.choice(ABSENT_ZH) + rnd.choice(ZH), "zzqx", f"维修 {rnd.choice(ABSENT_ZH)}", "修保"])
            )
    return queries


def test_recall_and_precision_on_1200_sampled_queries(corpus):
    conn, rows, normalised = corpus
    queries = sample_queries(rows, 1200)
    checked = empty = 0
    failures = []
    for q in queries:
        expression = match_expression(q)
        if expression is None:
            continue
        got = matching_rowids(conn, "_search_t", expression)
        want = oracle(normalised, q)
        checked += 1
        empty += not want
        if got != want:
            failures.append((q, expression, sorted(got - want)[:5], sorted(want - got)[:5]))
    assert checked >= 1000
    assert empty >= 50  # the sample really includes queries that must find nothing
    assert not failures, failures[:10]


def test_the_table_filter_finds_what_the_index_finds(corpus):
    """`few_matches` (what `?_search=` uses) starts from the rarest token of each phrase and
    checks the rows in Python: on every sampled query it must give the oracle's rows."""
    conn, rows, normalised = corpus
    tindex = read_indexes(conn)["t"]
    assert tindex.terms == "_search_t_terms"
    narrowed = 0
    failures = []
    for q in sample_queries(rows, 1200, seed=8) + ["维修 保养 2023", "北京市教育局 维修", "政府 采购 项目 数据"]:
        phrases = search_query.match_phrases(q)
        if not phrases:
            continue
        narrowed += search_query._narrowed(conn, tindex, phrases) is not None
        got = few_matches(conn, tindex, q, limit=len(rows))
        got = set(got) if got is not None else matching_rowids(conn, tindex.index, match_expression(q))
        want = oracle(normalised, q)
        if got != want:
            failures.append((q, sorted(got - want)[:5], sorted(want - got)[:5]))
    assert narrowed >= 200  # the narrowing really ran, not just the plain index
    assert not failures, failures[:10]


def test_the_table_filter_without_a_terms_table(corpus):
    conn, rows, normalised = corpus
    tindex = read_indexes(conn)["t"]
    plain = tindex.__class__(tindex.table, tindex.index, tindex.columns, None)
    for q in ["维修 保养", "北京市教育局", "open data"]:
        assert set(few_matches(conn, plain, q, limit=len(rows))) == oracle(normalised, q)


def test_precision_traps(corpus):
    conn, rows, normalised = corpus
    trap = {r[0] for r in rows if any("维修，保养" in (c or "") for c in r[1:3])}
    assert trap
    assert matching_rowids(conn, "_search_t", match_expression("维修，保养")) >= trap
    small = sqlite3.connect(":memory:")
    small.execute("create table s (x text)")
    small.executemany("insert into s values (?)", [("维修，保养",), ("维修保养",), ("维修 abc 保养",), ("修",)])
    create_index(small, "s", ["x"])
    assert matching_rowids(small, "_search_s", match_expression("修保")) == {2}
    assert matching_rowids(small, "_search_s", match_expression("维修，保养")) == {1}
    assert matching_rowids(small, "_search_s", match_expression('"维修 保养"')) == {1}
    assert matching_rowids(small, "_search_s", match_expression("维修 保养")) == {1, 2, 3}
    assert matching_rowids(small, "_search_s", match_expression("修")) == {1, 2, 3, 4}


def test_index_tokens_and_expressions():
    assert index_tokens("维修，保养") == "维修 修 保养 养"
    assert index_tokens("資料Open-Data ＡＢＣ２０２３") == "资料 料 open data abc2023"
    assert match_expression("市") == '"市" *'
    assert match_expression("政府采购 2023") == '"政府 府采 采购" AND "2023" *'
    assert match_expression('"open data"') == '"open data"'
    assert match_expression("维修，保养") == '"维修 修 保养"'
    assert match_expression("，。 ") is None
    assert match_expression('a"b') is not None  # an unbalanced quote is not an FTS5 syntax error


def test_normalisation_is_per_character():
    assert normalize("資料ＡＢＣ") == "资料abc"
    text = "北京市財政局ＡＢＣ資料庫"
    for i in range(len(text)):
        assert normalize(text[:i]) + normalize(text[i:]) == normalize(text)


def test_batch_documents_hold_the_same_tokens_as_index_tokens():
    """The build indexes through `batch.index_documents`; the queries check candidates with
    `index_tokens`. Both must give every cell the same tokens, in the same order."""
    from gongkai.search.batch import index_documents

    rnd = random.Random(7)
    alphabet = (
        "維修保養街道市政府采购abcABCß①㈱２０２３，。、 \t\n_-'\"é\u0301ΣσςİI〇ー・\U00020000\U0002a6d6ｶﾞ"
        + "".join(chr(rnd.randint(0, 0x2FFFF)) for _ in range(300))
    )
    alphabet = "".join(c for c in alphabet if not 0xD800 <= ord(c) <= 0xDFFF)
    checked = 0
    for _ in range(2000):
        cells: list = [
            "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12))) for _ in range(rnd.randint(1, 12))
        ]
        extra = rnd.random()
        if extra < 0.1:
            cells.append(None)
        elif extra < 0.15:
            cells.append("维修\0保养")  # the batch separator inside a cell
        elif extra < 0.2:
            cells.append(20231231)
        for cell, doc in zip(cells, index_documents(cells), strict=True):
            assert doc.split() == index_tokens(cell).split(), cell
            checked += 1
    assert checked > 10_000
