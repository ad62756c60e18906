"""Conditional (有条件开放) and closed (不予开放) datasets through the CKAN API.

Their catalogue record is public, their rows and files are not (gongkai/openness.py). So
`package_show` / `package_search` / `resource_show` describe them with no data URL (a
resource's `url` is the landing page, where the conditions are; no `datastore_active`, no
`api_url`), and `datastore_search` / `datastore_search_sql` on one of their resources answer
CKAN's `Authorization Error` (403: ckanapi raises NotAuthorized) with the conditions and how
to apply in both languages, the same sentence the site's own gate (plugins/openness.py) gives;
never "not found", which would tell a client the resource does not exist.
"""

from __future__ import annotations

import sqlite3
from urllib.parse import quote

from .. import i18n
from ..catalogue import openness as catalogue_openness
from ..catalogue.openness import Withheld
from .errors import AUTHORIZATION, ActionError


def of(conn: sqlite3.Connection, dataset: str) -> Withheld | None:
    """The dataset's conditions if its rows are withheld, else None (a handful of rows: the
    query lists only the withheld datasets)."""
    return catalogue_openness.withheld(conn).get(dataset)


class Refused(ActionError):
    """The 403 of a withheld dataset: its sentence's values differ by language (the conditions
    are translated in `gov:translations`)."""

    def __init__(self, key: str, by_lang: dict[str, dict[str, str]], extra: dict):
        self.by_lang = by_lang
        super().__init__(AUTHORIZATION, key, extra=extra)

    def message(self, lang: str) -> str:
        return i18n.t(self.key, lang, **self.by_lang[lang])


def refusal(w: Withheld, base: str) -> ActionError:
    landing = f"{base}/datasets/{quote(w.name)}"
    values = {}
    for lang in i18n.LANGS:
        apply = w.text("apply", lang)
        if not apply and w.contact_email:
            apply = i18n.t("portal.withheld.apply_contact", lang) + w.contact_email
        values[lang] = {
            "condition": w.text("condition", lang) or i18n.t("portal.not_given", lang),
            "apply": apply or i18n.t("portal.not_given", lang),
            "landing": landing + ("?_lang=en" if lang == "en" else ""),
        }
    kind = "closed" if w.openness == "closed" else "conditional"
    return Refused(
        f"err_withheld_{kind}",
        values,
        {
            "openness": w.openness,
            "condition": w.condition,
            "apply": w.apply,
            "contact_email": w.contact_email,
            "landing_page": landing,
        },
    )
