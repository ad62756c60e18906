"""CKAN's error envelope: the `__type` names ckanapi maps to its exceptions, their HTTP statuses,
and the message in English (`message`, what CKAN clients show) and Chinese (`message_zh`).

Types and statuses are CKAN's own (ckan/views/api.py): Not Found Error 404, Validation Error
and Search Query Error 409, Authorization Error 403, Bad Request 400. ckanapi's
`reverse_apicontroller_action` raises NotFound / ValidationError / SearchQueryError /
NotAuthorized from the `__type`, so the words must be exactly these.
"""

from __future__ import annotations

from typing import Any

from .. import i18n

NOT_FOUND = ("Not Found Error", 404)
VALIDATION = ("Validation Error", 409)
SEARCH_QUERY = ("Search Query Error", 409)
AUTHORIZATION = ("Authorization Error", 403)
BAD_REQUEST = ("Bad Request", 400)
TOO_LARGE = ("Bad Request", 413)


class ActionError(Exception):
    """An action's refusal: `key` names its sentence in gongkai/locales/ckan.yaml."""

    def __init__(
        self, kind: tuple[str, int], key: str, field: str | None = None, extra: dict | None = None, **values: Any
    ):
        self.type, self.status = kind
        self.key, self.field, self.values = key, field, values
        self.extra = extra or {}  # more keys for the error dict (a withheld dataset's conditions)
        super().__init__(self.message("en"))

    def message(self, lang: str) -> str:
        return i18n.t(self.key, lang, **self.values)

    def error(self) -> dict[str, Any]:
        body: dict[str, Any] = {"__type": self.type, "message": self.message("en"), "message_zh": self.message("zh")}
        if self.type == VALIDATION[0] and self.field:
            # CKAN's validation errors also list the messages by field
            body[self.field] = [self.message("en")]
        return {**body, **self.extra}


def not_found(what: str, ident: Any) -> ActionError:
    return ActionError(NOT_FOUND, f"ckan_not_found_{what}", id=str(ident)[:200])


def invalid(field: str, key: str = "ckan_invalid_value", **values: Any) -> ActionError:
    return ActionError(VALIDATION, key, field=field, field_name=field, **values)


def missing(field: str) -> ActionError:
    return ActionError(VALIDATION, "ckan_missing_value", field=field, field_name=field)
