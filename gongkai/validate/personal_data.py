"""The personal-data guard: resident ID numbers, mobile numbers, e-mail addresses, bank card
numbers and personal column names, in every cell and header of a table
(`docs/validation-rules.md`, "Personal data guard").

A hit is a ``personal-data`` error (row, column, kind, the value masked) unless the dataset
declares the column in ``gov:personalData`` with its ``kind``, ``legalBasis`` and ``masking``.
A ``kind: organisational-contact`` declaration covers the contact kinds only (e-mail, mobile,
the column name); an ID or card number in such a column is still reported.

Cost: the guard is compiled once per table (`RowGuard`) into one condition of the generated
row function (`RowGuard.fast_condition`), evaluated after the casts: a column's type says what
its valid cells can hold (a date or a boolean no identifier, a number only when long enough),
and the text columns are concatenated and looked at once, in C (an "@", or 11 digits in a row once
`ZEROS` maps them). Only a row that passes is looked at cell by cell (`RowGuard.hits`), and
only a real hit sends it to the slow path (where the errors are made, masked, and the row is
not published; in the split's child the part becomes dirty, so the parent reports it).

Checks: python-stdnum's ``cn.ric`` for the birth date and the ISO 7064 MOD 11-2 check
character, but not its birthplace (its county table lacks real, and abolished, county codes:
``ric.validate`` raises for those IDs, which are still personal data); ``cn.uscc`` (GB 32100)
for organisations' codes, never flagged; ``luhn`` for card numbers; phonenumbers for mobiles.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import phonenumbers
from stdnum import luhn
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from ..errors import PERSONAL_DATA, Error, text

RESIDENT_ID = "resident-id"
MOBILE = "mobile"
EMAIL = "email"
BANK_CARD = "bank-card"
COLUMN_NAME = "column-name"
KINDS = (RESIDENT_ID, MOBILE, EMAIL, BANK_CARD, COLUMN_NAME)

PERSONAL = "personal"
ORGANISATIONAL_CONTACT = "organisational-contact"
# what a complete declaration of each `gov:personalData` kind lets through
COVERS = {PERSONAL: frozenset(KINDS), ORGANISATIONAL_CONTACT: frozenset({EMAIL, MOBILE, COLUMN_NAME})}

# For the benchmark's A/B figure only (gongkai.bench.personal_data): the build never sets it.
ENABLED = True

# Every identifier matches this somewhere: an e-mail its "@"; an ID (15 or 18) or a card a
# run of 15 digits, or card groups; a mobile its 11 digits (3-4-4 groups allowed, +86 allowed).
CANDIDATE = re.compile(r"@|\d{15}|(?<!\d)1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?![\d.]|,\d)|\d{4}[- ]\d{4,6}[- ]\d{4,5}")
CANDIDATE_CARDS = re.compile(CANDIDATE.pattern + r"|\d{13}")
# the types whose valid cells hold no identifier (the cast proves their form)
NO_IDENTIFIERS = frozenset({"date", "time", "datetime", "year", "yearmonth", "boolean", "duration", "geopoint"})
# a text's ASCII digits, spaces and hyphens as "0" (they group digits: 138-1234-5678), anything
# else as "x": a run of 11 zeros is needed for any identifier but an e-mail
ZEROS = bytes(48 if 48 <= b <= 57 or b in b" -" else 120 for b in range(256))
ELEVEN = b"0" * 11
# in a column declared as organisational contact only IDs and cards are looked for
DIGITS_ONLY = re.compile(r"\d{15}|\d{4}[- ]\d{4,6}[- ]\d{4,5}")
SEP = "\x1f"  # joins a row's cells: no pattern matches across it
# Full-width forms (Ａ–ｚ, ０–９, ＠, －, the ideographic space), which Chinese input methods type
# and Chinese spreadsheets keep, folded to ASCII one character for one (NFKC's mapping for this
# block; NFKC itself may change a text's length, and spans must stay valid in the original):
# １３８１２３４５６７８ is a mobile number as much as 13812345678 is.
FOLD = {**{c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}, 0x3000: 0x20}
_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")
# The row function's fast condition only asks whether a row may hold an identifier, so there
# a text's length may change: NFKC, in C, folds the full-width forms (and some more, which can
# only add candidates for the full look) in 0.13 µs where `str.translate` takes 4.5 µs for a
# 60-character Chinese cell (measured with timeit).
normalize = unicodedata.normalize


def fold(text: str) -> str:
    """`text` with its full-width forms as ASCII, the same length (`FOLD`); text without any,
    as is (the search, in C, costs a tenth of the translation)."""
    if text.isascii() or _FULL_WIDTH.search(text) is None:
        return text
    return text.translate(FOLD)


_BEFORE = r"(?<!\d)(?<!\d[.,])"  # not inside a longer number, nor the fraction of a decimal
_AFTER = r"(?![\d]|[.,]\d)"  # nor the integer part of a decimal (15888888555.83)
_ID18 = re.compile(_BEFORE + r"[1-9]\d{16}[0-9Xx]" + _AFTER)
_ID15 = re.compile(_BEFORE + r"[1-9]\d{14}" + _AFTER)
_MOBILE = re.compile(_BEFORE + r"(?<!\+)(?:(?:\(?(?:\+|00)86\)?|86)[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})" + _AFTER)
_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}(?![\w-])")
_CARD = re.compile(_BEFORE + r"\d(?:[- ]?\d){12,18}" + _AFTER)

# GB/T 2260 province codes (stable, unlike county codes); 9x: foreigners' permanent residence
# ID cards (2023 format), which also carry the MOD 11-2 check character.
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
    "61 62 63 64 65 71 81 82 83 91 92 93 94 95 96 97".split()
)

# (prefixes, lengths) of card issuers: UnionPay, Visa, Mastercard, Amex, JCB, Discover,
# Diners, and the Chinese banks' own debit ranges (60, 9).
_ISSUERS: tuple[tuple[tuple[str, ...], frozenset[int]], ...] = (
    (("62", "81"), frozenset(range(16, 20))),
    (("4",), frozenset({13, 16, 19})),
    (tuple(["51", "52", "53", "54", "55"] + [str(p) for p in range(2221, 2721)]), frozenset({16})),
    (("34", "37"), frozenset({15})),
    (tuple(str(p) for p in range(3528, 3590)), frozenset(range(16, 20))),
    (("6011", "644", "645", "646", "647", "648", "649", "65"), frozenset(range(16, 20))),
    (("36", "300", "301", "302", "303", "304", "305", "38"), frozenset(range(14, 20))),
    (("60", "9"), frozenset(range(16, 20))),
)

# Column names, as whole words: Latin ones as token sequences, Chinese ones as the head noun
# of the name (at its end, optionally followed by 号/号码/地址/... and a bracketed note).
_LATIN_PERSONAL = (
    ("phone",), ("telephone",), ("tel",), ("mobile",), ("cellphone",), ("email",), ("address",),
    ("surname",), ("firstname",), ("lastname",), ("fullname",), ("passport",), ("birthday",),
    ("dob",), ("idcard",), ("id", "card"), ("id", "number"), ("id", "no"), ("first", "name"),
    ("last", "name"), ("given", "name"), ("full", "name"), ("date", "of", "birth"),
    ("national", "id"), ("resident", "id"), ("citizen", "id"),
)  # fmt: skip
_CHINESE_PERSONAL = (
    "身份证", "公民身份号码", "身份号码", "证件号码", "证件号", "手机", "移动电话", "电话", "住址",
    "邮箱", "电子邮件", "姓名", "出生日期",
)  # fmt: skip
_LATIN_ID = (("idcard",), ("id", "card"), ("id", "number"), ("id", "no"), ("idno",), ("identity",),
             ("national", "id"), ("resident", "id"), ("citizen", "id"))  # fmt: skip
_CHINESE_ID = ("身份证", "身份号码", "证件号码", "证件号", "证件")
_LATIN_CARD = (("card",), ("cardno",), ("account",), ("iban",), ("pan",), ("bank", "card"))
_CHINESE_CARD = ("银行卡", "卡号", "账号", "帐号", "借记卡", "信用卡", "银行账户")
_LATIN_ORG_CODE = (("uscc",), ("credit", "code"), ("social", "credit"))
_CHINESE_ORG_CODE = ("统一社会信用代码", "信用代码")

_SUFFIX = r"(?:号码|号|码|地址|信息|名称)?(?:\s*[（(][^）)]*[）)])?"


def _chinese(terms: Sequence[str]) -> re.Pattern:
    return re.compile("(?:" + "|".join(map(re.escape, terms)) + ")" + _SUFFIX + r"\s*$")


_CHINESE_PERSONAL_RE = _chinese(_CHINESE_PERSONAL)
_CHINESE_ID_RE = _chinese(_CHINESE_ID)
_CHINESE_CARD_RE = _chinese(_CHINESE_CARD)
_CHINESE_ORG_CODE_RE = _chinese(_CHINESE_ORG_CODE)
_PARTS = re.compile(r"[\s/|、,，;；:：]+")


def _tokens(name: str) -> list[str]:
    name = re.sub(r"(?i)e-mail", "email", name)
    name = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)  # camelCase: idCard -> id Card
    return re.findall(r"[a-z0-9]+", name.lower())


def _says(name: str, latin: Sequence[tuple[str, ...]], chinese: re.Pattern) -> str | None:
    """The term of the name that says the column holds this, matched as a whole word."""
    tokens = _tokens(name)
    for term in latin:
        n = len(term)
        if any(tuple(tokens[i : i + n]) == term for i in range(len(tokens) - n + 1)):
            return " ".join(term)
    for part in _PARTS.split(name):
        m = chinese.search(part)
        if m:
            return m.group(0).strip()
    return None


def personal_name(name: str) -> str | None:
    """The personal-data term the column name holds as a whole word (``addressbase-custodian``
    holds none), or None."""
    return _says(name, _LATIN_PERSONAL, _CHINESE_PERSONAL_RE)


# -- the identifiers -----------------------------------------------------------------------------


def _birth_date_ok(year: int, month: int, day: int) -> bool:
    try:
        born = datetime.date(year, month, day)
    except ValueError:
        return False
    return 1900 <= year and born <= datetime.date.today()


def is_resident_id(number: str) -> bool:
    """An 18-character resident ID number: province, a real birth date, the MOD 11-2 check
    character (``ric.validate`` would also look the county up in its own table: not done)."""
    number = number.upper()
    if len(number) != 18 or not number[:17].isdigit() or number[:2] not in PROVINCES:
        return False
    try:
        ric.get_birth_date(number)
    except ValidationError:
        return False
    if not _birth_date_ok(int(number[6:10]), int(number[10:12]), int(number[12:14])):
        return False
    return ric.calc_check_digit(number[:17]) == number[17]


def is_old_resident_id(number: str) -> bool:
    """The 15-digit form (before 1999): province and a real 19YY birth date, no check character."""
    return (
        len(number) == 15
        and number.isdigit()
        and number[:2] in PROVINCES
        and _birth_date_ok(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    )


def is_organisation_code(code: str) -> bool:
    """A 统一社会信用代码 with a valid GB 32100 check character."""
    return uscc.is_valid(code)


def is_mobile(digits: str) -> bool:
    """An 11-digit mainland mobile number, as phonenumbers knows the allocated ranges."""
    try:
        number = phonenumbers.parse("+86" + digits)
    except phonenumbers.NumberParseException:
        return False
    kinds = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in kinds


def is_bank_card(digits: str) -> bool:
    """Luhn, and the prefix and length of a known issuer (Luhn alone passes 1 in 10 numbers)."""
    if not digits.isdigit() or not luhn.is_valid(digits):
        return False
    return any(len(digits) in lengths and digits.startswith(prefixes) for prefixes, lengths in _ISSUERS)


# -- masks: enough to find the cell again, never the whole value ----------------------------------


def mask_id(number: str) -> str:
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_card(raw: str) -> str:
    digits = [i for i, c in enumerate(raw) if c.isdigit()]
    hidden = set(digits[6:-4])
    return "".join("*" if i in hidden else c for i, c in enumerate(raw))


class GuardHit(Exception):
    """Raised in the generated row function: the row holds personal data (the slow path reports it)."""


@dataclass(frozen=True)
class Hit:
    """One identifier found: in which cell, of which kind, the text found and its mask."""

    index: int  # the cell's position in the row (0-based)
    kind: str
    raw: str
    masked: str


@dataclass(frozen=True)
class Column:
    """What one column is looked at for, compiled once from its name and its declaration."""

    name: str
    old_ids: bool  # the name says ID: the 15-digit form counts
    cards: bool  # the name says card or account
    org_codes: bool  # the name says 统一社会信用代码: a valid one is never an ID
    mobiles: bool  # not in a `number` column: 13912345678 there is an amount, not a phone
    allowed: frozenset[str]  # the kinds its declaration lets through
    declaration: dict | None  # the gov:personalData entry, complete or not

    @classmethod
    def of(cls, name: str, declaration: dict | None = None, type_: str | None = None) -> Column:
        allowed: frozenset[str] = frozenset()
        if declaration is not None and complete(declaration):
            allowed = COVERS.get(str(declaration.get("kind")), frozenset())
        return cls(
            name=name,
            old_ids=_says(name, _LATIN_ID, _CHINESE_ID_RE) is not None,
            cards=_says(name, _LATIN_CARD, _CHINESE_CARD_RE) is not None,
            org_codes=_says(name, _LATIN_ORG_CODE, _CHINESE_ORG_CODE_RE) is not None,
            mobiles=type_ != "number",
            allowed=allowed,
            declaration=declaration,
        )

    def find(self, cell: str, index: int = 0) -> list[Hit]:
        """Every identifier in the cell (allowed or not). The patterns and checks read the
        cell's folded form (`fold`); each hit's `raw` is the cell's own characters at the same
        span, so redacting a report replaces exactly what the publisher wrote."""
        original, cell = cell, fold(cell)

        def raw_of(m: re.Match) -> str:
            return original[m.start() : m.end()]

        hits: list[Hit] = []
        if "@" in cell:
            hits += [Hit(index, EMAIL, raw_of(m), mask_email(m.group(0))) for m in _EMAIL.finditer(cell)]
        if not any(c.isdigit() for c in cell):
            return hits
        taken: list[tuple[int, int]] = []
        for m in _ID18.finditer(cell):
            number = m.group(0)
            if is_resident_id(number) and not (self.org_codes and is_organisation_code(number)):
                hits.append(Hit(index, RESIDENT_ID, raw_of(m), mask_id(number)))
                taken.append(m.span())
        if self.old_ids:
            for m in _ID15.finditer(cell):
                if is_old_resident_id(m.group(0)):
                    hits.append(Hit(index, RESIDENT_ID, raw_of(m), mask_id(m.group(0))))
                    taken.append(m.span())
        for m in _MOBILE.finditer(cell) if self.mobiles else ():
            if _inside(m.span(), taken):
                continue
            head, middle, tail = m.groups()
            if is_mobile(head + middle + tail):
                raw = m.group(0)
                cut = m.start(2) - m.start(0)
                masked = raw[:cut] + "****" + raw[cut + 4 :]
                hits.append(Hit(index, MOBILE, raw_of(m), masked))
                taken.append(m.span())
        if self.cards:
            for m in _CARD.finditer(cell):
                raw = m.group(0)
                if not _inside(m.span(), taken) and is_bank_card(re.sub(r"[- ]", "", raw)):
                    hits.append(Hit(index, BANK_CARD, raw_of(m), mask_card(raw)))
        return hits


def _inside(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(a < span[1] and span[0] < b for a, b in taken)


def complete(declaration: dict | None) -> bool:
    """A declaration covers its column only with a known kind, a legal basis and a masking."""
    return (
        isinstance(declaration, dict)
        and declaration.get("kind") in COVERS
        and _filled(declaration.get("legalBasis"))
        and _filled(declaration.get("masking"))
    )


def _filled(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def declarations_for(entries: object, resource: str) -> dict[str, dict]:
    """The `gov:personalData` entries that apply to this resource, by field name (an entry
    without ``resource`` applies to every resource with that field)."""
    out: dict[str, dict] = {}
    if not isinstance(entries, list):
        return out
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("field"), str):
            continue
        if entry.get("resource") in (None, "", resource):
            # a resource's own entry wins over a dataset-wide one
            if entry["field"] not in out or entry.get("resource") == resource:
                out[entry["field"]] = entry
    return out


# -- the errors ---------------------------------------------------------------------------------


def _kind_words(kind: str) -> dict[str, str]:
    return {"kind": text(f"personal-kind.{kind}", "en"), "kind_zh": text(f"personal-kind.{kind}", "zh")}


def error_for(column: Column, kind: str, *, term: str | None = None) -> Error:
    """The personal-data error of a hit in this column: what to do depends on its declaration."""
    words = _kind_words(kind)
    declaration = column.declaration
    if declaration is None:
        if kind == COLUMN_NAME:
            return PERSONAL_DATA("column-name", name=column.name, term=term or "", **words)
        return PERSONAL_DATA("undeclared", name=column.name, **words)
    if not complete(declaration):
        missing = [k for k in ("kind", "legalBasis", "masking") if not _declared(declaration, k)]
        return PERSONAL_DATA("incomplete", name=column.name, missing=", ".join(missing), **words)
    declared = str(declaration.get("kind"))
    return PERSONAL_DATA("not-covered", name=column.name, declared=declared, **words)


def _declared(declaration: dict, key: str) -> bool:
    return declaration.get(key) in COVERS if key == "kind" else _filled(declaration.get(key))


def redact(error: Error, hits: Iterable[Hit]) -> Error:
    """The error with every identifier found in its row replaced by its mask (in the cell, the
    row's cells, the notes and the extra fields: a key error quotes the key's value)."""
    pairs = sorted({(h.raw, h.masked) for h in hits}, key=lambda p: -len(p[0]))
    if not pairs:
        return error

    def clean(value):
        if isinstance(value, str):
            for raw, masked in pairs:
                value = value.replace(raw, masked)
        elif isinstance(value, (list, tuple)):
            value = type(value)(clean(v) for v in value)
        return value

    extra = {k: clean(v) for k, v in error.extra.items()}
    return error.at(
        note=clean(error.note),
        note_zh=clean(error.note_zh),
        cell=clean(error.cell),
        cells=clean(error.cells),
        extra=extra,
    )


class RowGuard:
    """The guard of one table, compiled once from its column names and declarations."""

    def __init__(self, names: Sequence[str], declarations: dict[str, dict], fields: Sequence[dict] = ()):
        fields = list(fields) + [{}] * (len(names) - len(fields))
        self.fields = fields
        self.columns = [Column.of(name, declarations.get(name), f.get("type")) for name, f in zip(names, fields)]
        # undeclared (or incompletely declared) columns are looked at for everything; columns
        # declared organisational contact for IDs and cards only; declared personal: not at all
        self.watched = [i for i, c in enumerate(self.columns) if not c.allowed]
        self.contact = [i for i, c in enumerate(self.columns) if c.allowed and c.allowed != COVERS[PERSONAL]]
        # a card may be as short as 13 digits: only a card column makes such runs candidates
        cards = any(self.columns[i].cards for i in self.watched)
        self.find_watched = (CANDIDATE_CARDS if cards else CANDIDATE).search
        self.find_contact = DIGITS_ONLY.search

    def fast_condition(self) -> str | None:
        """For the generated row function: a Python expression over ``x<i>`` (cell texts) and
        ``v<i>`` (their cast values, every cell being valid), true when the row may hold an
        identifier (then `hits` decides), or None when no column needs looking at. A column's
        type decides how cheap it is: a valid date or boolean holds none, a number only when
        long enough; the text columns are concatenated and looked at once, in C: an "@", or a run of
        11 ASCII digits (spaces and hyphens count: 138-1234-5678) once `ZEROS` maps them,
        full-width ones folded to ASCII before (NFKC: `normalize`)."""
        texts: list[str] = []
        contact_texts: list[str] = []
        values: list[str] = []
        for i, column in enumerate(self.columns):
            if column.allowed == COVERS[PERSONAL]:
                continue
            field = self.fields[i]
            type_ = field.get("type") or "string"
            enum = (field.get("constraints") or {}).get("enum")
            if type_ in NO_IDENTIFIERS:
                continue
            if isinstance(enum, list) and not any(column.find(str(e)) for e in enum):
                continue  # only its enum's values pass the fast path, and none is one
            if type_ == "integer":
                values.append(f"(v{i} or 0) > 9999999999")  # 11 digits or more
            elif type_ == "number":
                # a number column holds no mobile (an amount); an ID has 15 digits, a card 13
                values.append(f"(v{i} or 0) > {999999999999 if column.cards else 99999999999999}")
            else:
                (contact_texts if EMAIL in column.allowed else texts).append(f"x{i}")
        conditions = values
        for group, emails in ((texts, True), (contact_texts, False)):
            if not group:
                continue
            # concatenated with a non-digit between (a run across two cells would make most rows
            # candidates); full-width forms folded to ASCII first (only when there are any:
            # `isascii` is O(1)), then any other non-ASCII character becomes "?", never dropped,
            # for the same reason
            joined = ' + "/" + '.join(group)
            name = "g_text" if emails else "g_contact"
            folded = f'((({name} := {joined})).isascii() or ({name} := normalize("NFKC", {name})))'
            digits = f'ELEVEN in {name}.encode("ascii", "replace").translate(ZEROS)'
            if emails:
                conditions.append(f'({folded} and ("@" in {name} or {digits}))')
            else:
                conditions.append(f"({folded} and {digits})")
        return " or ".join(conditions) if conditions else None

    def label_errors(self, labels: Sequence[str], row_number: int | None) -> list[Error]:
        """The header's hits: personal column names, and identifiers written as labels (a data
        row taken for the header)."""
        errors: list[Error] = []
        for i, label in enumerate(labels):
            column = self.columns[i] if i < len(self.columns) else Column.of(label)
            where = dict(field_name=column.name, field_number=i + 1, row_number=row_number)
            term = personal_name(label)
            if term is not None and COLUMN_NAME not in column.allowed:
                errors.append(error_for(column, COLUMN_NAME, term=term).at(cell=label, **where))
            hits = [h for h in column.find(label, i) if h.kind not in column.allowed]
            for hit in hits:
                errors.append(error_for(column, hit.kind).at(cell=hit.masked, **where))
        return errors

    def candidate(self, cells: Sequence[str]) -> bool:
        """Whether the row may hold an identifier where one is not allowed (one regular
        expression over the joined cells; cheap)."""
        n = len(cells)
        watched = fold(SEP.join([cells[i] for i in self.watched if i < n]))
        if self.find_watched(watched) is not None:
            return True
        return (
            bool(self.contact)
            and self.find_contact(fold(SEP.join([cells[i] for i in self.contact if i < n]))) is not None
        )

    def hits(self, cells: Sequence[str]) -> list[Hit]:
        """The identifiers of the row that are not allowed where they are (a cell past the
        columns is looked at for everything)."""
        if not self.candidate(cells) and len(cells) <= len(self.columns):
            return []
        found: list[Hit] = []
        for i, cell in enumerate(cells):
            column = self.columns[i] if i < len(self.columns) else _EXTRA
            if column.allowed == COVERS[PERSONAL] or not cell:
                continue
            found += [h for h in column.find(cell, i) if h.kind not in column.allowed]
        return found

    def row_errors(self, row_number: int, cells: Sequence[str], hits: Sequence[Hit]) -> list[Error]:
        errors = []
        for hit in hits:
            column = self.columns[hit.index] if hit.index < len(self.columns) else _EXTRA
            error = error_for(column, hit.kind)
            errors.append(
                error.at(
                    row_number=row_number,
                    field_name=column.name,
                    field_number=hit.index + 1,
                    cell=cells[hit.index].replace(hit.raw, hit.masked),
                    cells=tuple(cells),
                    extra={"personalDataKind": hit.kind},
                )
            )
        return errors


_EXTRA = Column.of("")  # a cell past the header's columns


def compile_guard(
    names: Sequence[str], resource: str, personal_data: object, fields: Sequence[dict] = ()
) -> RowGuard | None:
    """The table's guard (columns by name, in data order, with their Table Schema fields), or
    None when it is switched off (the benchmark's A/B only)."""
    if not ENABLED:
        return None
    return RowGuard(names, declarations_for(personal_data, resource), fields)


def classify(column_name: str, values: Iterable[str], type_: str | None = None) -> set[str]:
    """The personal-data kinds a column holds, judged from its name and its values (for tools
    that draft a schema, e.g. ``gongkai describe``): ``column-name``, ``resident-id``,
    ``mobile``, ``email``, ``bank-card``. A valid 统一社会信用代码 is never one of them."""
    column = Column.of(column_name, type_=type_)
    kinds = {COLUMN_NAME} if personal_name(column_name) else set()
    for value in values:
        if isinstance(value, str) and value and CANDIDATE.search(fold(value)):
            kinds.update(h.kind for h in column.find(value))
    return kinds
