"""The access gate for conditional (有条件开放) and closed (不予开放) datasets.

The build already keeps their rows out of the release: no database of theirs is served and no
file of theirs is under downloads/ (gongkai/build.py, gongkai/openness.py). This gate is the
second line: every data URL of such a dataset (`/<name>`, `/<name>/<table>`, `.json`, `.csv`,
`.db`, `?sql=`, row pages, `/downloads/<name>/…`) is answered 403 with the conditions and how to
apply, in HTML or JSON, Chinese or English (`?_lang=en`), before Datasette routes it (so a 404
for a missing database never says less than the conditions). Their landing page
(`/datasets/<name>`) and data dictionary stay public.

Which names are withheld is read once per release from the catalogue (gongkai/catalogue/openness.py).
"""

from __future__ import annotations

import json
import re

from datasette import hookimpl

from gongkai import catalogue, i18n
from gongkai.catalogue import openness as catalogue_openness
from gongkai.portal import error_messages


def _error_pages():
    """plugins/error_pages.py, for the site's one way of answering an error (Datasette loads
    plugin files as modules outside sys.modules, so they find each other through its registry)."""
    from datasette.plugins import pm

    return pm.get_plugin("error_pages.py")


# a dataset's data URLs: its database's routes, or its published files; names are slugs, so
# anything after the name that is not a slug character ends it (`.json`, `/`, `~2E`, `?`)
DATA_PATH = re.compile(r"^/(?:downloads/)?([a-z0-9][a-z0-9-]*)(?=$|[^a-z0-9-])")
_ATTR = "_gongkai_withheld"


async def withheld(datasette) -> dict[str, catalogue_openness.Withheld]:
    try:
        store = catalogue.of(datasette)
    except catalogue.CatalogueMissing:
        return {}
    found: dict[str, catalogue_openness.Withheld] | None = getattr(store, _ATTR, None)
    if found is None:
        try:
            found = await store.read(lambda c: catalogue_openness.withheld(c.conn))
        except catalogue.CatalogueMissing:
            found = {}
        setattr(store, _ATTR, found)  # the release never changes: once per store
    return found


def explained(w: catalogue_openness.Withheld, landing: str) -> error_messages.Explained:
    """The 403's sentence in both languages: the class, the conditions, how to apply, and where
    the catalogue record is."""
    both = {}
    for lang in i18n.LANGS:
        apply = w.text("apply", lang)
        how = apply or (i18n.t("portal.withheld.apply_contact", lang) + w.contact_email if w.contact_email else "")
        both[lang] = i18n.t(
            f"err_withheld_{'closed' if w.openness == 'closed' else 'conditional'}",
            lang,
            condition=w.text("condition", lang) or i18n.t("portal.not_given", lang),
            apply=how or i18n.t("portal.not_given", lang),
            landing=landing,
        )
    return error_messages.Explained(both["zh"], both["en"])


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def asgi(scope, receive, send):
            if scope["type"] == "http":
                found = DATA_PATH.match(scope.get("path", ""))
                if found:
                    gate = await withheld(datasette)
                    w = gate.get(found.group(1))
                    if w is not None:
                        return await forbidden(datasette, scope, receive, send, w)
            return await app(scope, receive, send)

        return asgi

    return wrap


async def forbidden(datasette, scope, receive, send, w: catalogue_openness.Withheld) -> None:
    await datasette.invoke_startup()
    error_pages = _error_pages()
    request = error_pages._request(scope, receive)
    landing = datasette.urls.path(f"/datasets/{w.name}")
    if i18n.lang_of(request) == "en":
        landing += "?_lang=en"
    response = await error_pages.error_response(datasette, request, 403, explained(w, landing))
    if error_pages.wants_json(request):
        body = json.loads(response.body)
        body.update(
            openness=w.openness,
            condition=w.condition,
            apply=w.apply,
            contact_email=w.contact_email,
            landing_page=landing,
        )
        response.body = json.dumps(body, ensure_ascii=False)
    await response.asgi_send(send)
