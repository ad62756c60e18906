"""The publisher tools' words: every message from gongkai/locales/publish.yaml, shown in Chinese
and English together (a terminal has no language switch)."""

from __future__ import annotations

from ..i18n import t


def both(key: str, **fmt) -> str:
    """`key` in Chinese, then in English."""
    return f"{t(key, 'zh', **fmt)} / {t(key, 'en', **fmt)}"


def lines(key: str, prefix: str = "", **fmt) -> list[str]:
    """`key` as one line per language (for comments in a drafted file)."""
    return [f"{prefix}{t(key, lang, **fmt)}" for lang in ("zh", "en")]


class PublishError(Exception):
    """Something the publisher can fix, said in both languages; `code` is the CLI's exit code
    (1 a data problem, 2 a usage problem)."""

    def __init__(self, key: str, code: int = 1, **fmt) -> None:
        self.key, self.code, self.fmt = key, code, fmt
        super().__init__(both(key, **fmt))
