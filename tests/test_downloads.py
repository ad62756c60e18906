"""Serving a published file (gongkai/portal/file_response.py), pure parts: the content coding
chosen from Accept-Encoding's q-values, stored copies vs on the fly, one tag per coding, 304,
ranges only of the bytes as stored, and RFC 6266 names read back by real parsers (werkzeug's,
which prefers `filename*` as RFC 6266 says; the standard library's e-mail parser for the ASCII
`filename` an old client reads). The route on a built
site is in tests/test_exports.py; the build's copies in gongkai/exports/precompress.py."""

from __future__ import annotations

import gzip
from email.message import EmailMessage
from pathlib import Path

import brotli
import pytest
from werkzeug.http import parse_options_header  # schemathesis's and locust's dependency

from gongkai.exports import precompress
from gongkai.portal.file_response import Variant, clean_name, disposition, download_name, negotiate, plan

BOTH = ("br", "gzip")


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("br;q=1, gzip;q=0.8", "br"),
        ("gzip, deflate, br", "br"),  # equal q: the smaller coding
        ("gzip, deflate", "gzip"),
        ("br;q=0.5, gzip;q=0.8", "gzip"),
        ("gzip;q=0, br;q=0", "identity"),
        ("identity;q=0, *", "br"),
        ("*;q=0.3, br;q=0", "gzip"),
        ("identity, gzip;q=0.5", "identity"),  # identity named with a higher q
        ("", "identity"),
        (None, "identity"),
        ("identity;q=0", "identity"),  # nothing acceptable: sent without a coding (RFC 9110)
        ("GZIP;Q=0.9", "gzip"),
        ("br;q=abc, gzip", "gzip"),  # a malformed q counts as 0
        ("compress, x-gzip", "identity"),
    ],
)
def test_negotiation_follows_q_values(header, chosen):
    assert negotiate(header, BOTH) == chosen


def _plan(**kw):
    args = dict(
        size=500_000,
        content_type="text/csv; charset=utf-8",
        filename="towns.csv",
        range_header=None,
        accept_encoding="br, gzip",
        cors={},
        etag='"aaaa"',
    )
    return plan(**{**args, **kw})


def _h(p) -> dict[str, str]:
    return dict(p.headers)


def test_a_stored_copy_is_sent_as_it_is_with_its_own_tag(tmp_path):
    br = Variant("br", tmp_path / "towns.csv.br", 1234, '"bbbb"')
    gz = Variant("gzip", tmp_path / "towns.csv.gz", 2345, '"cccc"')
    p = _plan(variants=(br, gz))
    assert p.path == br.path and p.compress is None and p.length == 1234
    assert _h(p)["content-encoding"] == "br" and _h(p)["content-length"] == "1234" and _h(p)["etag"] == '"bbbb"'
    assert _h(p)["vary"] == "Accept-Encoding"
    g = _plan(variants=(br, gz), accept_encoding="gzip")
    assert g.path == gz.path and _h(g)["etag"] == '"cccc"'
    plain = _plan(variants=(br, gz), accept_encoding=None)
    assert plain.path is None and "content-encoding" not in _h(plain) and _h(plain)["etag"] == '"aaaa"'
    assert _h(plain)["content-length"] == "500000" and _h(plain)["vary"] == "Accept-Encoding"
    # each tag revalidates only its own coding
    assert _plan(variants=(br, gz), if_none_match='"bbbb"').status == 304
    assert _plan(variants=(br, gz), accept_encoding="gzip", if_none_match='"bbbb"').status == 200
    assert _plan(variants=(br, gz), accept_encoding="", if_none_match='W/"aaaa"').status == 304


def test_without_a_stored_copy_it_compresses_on_the_fly_under_a_weak_tag():
    p = _plan()
    assert p.compress == "br" and p.path is None and "content-length" not in _h(p)
    assert _h(p)["etag"] == 'W/"aaaa-br"' and _h(p)["content-encoding"] == "br"
    assert _h(_plan(accept_encoding="gzip"))["etag"] == 'W/"aaaa-gzip"'
    tiny = _plan(size=500)
    assert tiny.compress is None and "content-encoding" not in _h(tiny)
    binary = _plan(content_type="application/vnd.apache.parquet")
    assert binary.compress is None and "vary" not in _h(binary)


def test_ranges_are_of_the_stored_bytes_whatever_the_client_accepts(tmp_path):
    br = Variant("br", tmp_path / "towns.csv.br", 1234, '"bbbb"')
    p = _plan(variants=(br,), range_header="bytes=100-199")
    assert p.status == 206 and p.path is None and p.compress is None and (p.start, p.length) == (100, 100)
    assert "content-encoding" not in _h(p) and _h(p)["content-range"] == "bytes 100-199/500000"
    assert _h(p)["etag"] == '"aaaa"'
    # If-Range: the file's own tag resumes, anything else (an old tag, a date) sends it whole
    assert _plan(range_header="bytes=100-", if_range='"aaaa"').status == 206
    assert _plan(range_header="bytes=100-", if_range='"old"').status == 200
    assert _plan(range_header="bytes=100-", if_range="Tue, 01 Dec 2026 10:00:00 GMT").status == 200
    assert _plan(range_header="bytes=600000-").status == 416


def _filename(header: str) -> str:
    kind, options = parse_options_header(header)
    assert kind == "attachment"
    return options["filename"]


def _ascii_filename(header: str) -> str:
    msg = EmailMessage()
    msg["Content-Disposition"] = header
    return msg.get_filename()


def test_disposition_is_read_back_by_a_real_parser():
    header = disposition("guangan-population.csv", "广安市人口（2025）.csv")
    assert _filename(header) == "广安市人口（2025）.csv"
    assert header.startswith("attachment; filename=\"guangan-population.csv\"; filename*=UTF-8''")
    assert all(ord(ch) < 128 for ch in header)
    assert _ascii_filename(header) == "guangan-population.csv"
    assert _filename(disposition("towns.csv")) == "towns.csv"
    assert _ascii_filename(disposition('we"ird\\名.csv')) == "we_ird__.csv"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("广安市人口", "广安市人口.csv"),
        ("../../etc/passwd", "etc-passwd.csv"),
        ('a"b\\c/d', "a-b-c-d.csv"),
        ("年度\u202egpj.exe预算", "年度 gpj.exe预算.csv"),  # a bidirectional override is taken out
        ("控制\x00字符\r\n换行", "控制 字符 换行.csv"),
        ("...", "fallback.csv"),
        ("", "fallback.csv"),
        (None, "fallback.csv"),
    ],
)
def test_titles_become_safe_names(title, expected):
    name = download_name(title, ".csv", "fallback.csv")
    assert name == expected
    assert _filename(disposition("fallback.csv", name)) == expected


def test_long_titles_are_capped_at_a_character():
    name = download_name("很长的标题" * 100, ".excel.csv", "x.csv")
    assert name.endswith(".excel.csv") and len(name.encode("utf-8")) <= 180
    assert clean_name("标题" * 200).encode("utf-8").decode("utf-8")  # cut on a character boundary


def test_precompressed_copies_decode_to_the_file_and_are_reused(tmp_path):
    from gongkai.exports.manifest import FileEntry, write_manifest
    from gongkai.exports.publish import sha256

    text = "".join(f"{i},广安区第{i % 97}号事项,{i * 3.5}\n" for i in range(20_000)).encode("utf-8")
    noise = Path(tmp_path / "random.csv")
    noise.write_bytes(__import__("os").urandom(100_000))
    old = tmp_path / "old"
    old.mkdir()
    (old / "a.csv").write_bytes(text)
    small = old / "small.csv"
    small.write_bytes(text[:1000])
    entries = [
        FileEntry("a.csv", "csv", "a", len(text), sha256(old / "a.csv"), "text/csv; charset=utf-8"),
        FileEntry("small.csv", "csv", "a", 1000, sha256(small), "text/csv; charset=utf-8"),
    ]
    copies = precompress.precompress(old, entries, None, sha256)
    assert sorted(c.path for c in copies) == ["a.csv.br", "a.csv.gz"]
    assert brotli.decompress((old / "a.csv.br").read_bytes()) == text
    assert gzip.decompress((old / "a.csv.gz").read_bytes()) == text
    assert all(c.bytes < len(text) / 3 and c.source == "a.csv" for c in copies)
    write_manifest(old, entries + copies)
    # the next release: the same bytes link the copies, other bytes are compressed again
    new = tmp_path / "new"
    new.mkdir()
    (new / "a.csv").write_bytes(text)
    again = precompress.precompress(new, entries[:1], old, sha256)
    assert {c.path for c in again} == {"a.csv.br", "a.csv.gz"}
    assert (new / "a.csv.br").stat().st_ino == (old / "a.csv.br").stat().st_ino
    changed = text.replace(b"1,", b"2,", 1)
    (new / "b").mkdir()
    (new / "b" / "a.csv").write_bytes(changed)
    moved = FileEntry("a.csv", "csv", "a", len(changed), sha256(new / "b" / "a.csv"), "text/csv; charset=utf-8")
    fresh = precompress.precompress(new / "b", [moved], old, sha256)
    assert brotli.decompress((new / "b" / "a.csv.br").read_bytes()) == changed and len(fresh) == 2
    assert (new / "b" / "a.csv.br").stat().st_ino != (old / "a.csv.br").stat().st_ino
    # what does not compress keeps no copy
    rand = FileEntry("random.csv", "csv", "a", 100_000, sha256(noise), "text/csv")
    assert precompress.precompress(tmp_path, [rand], None, sha256) == []
