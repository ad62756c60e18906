"""Which datasets the site may serve rows and files of: one rule for the build and the server.

`gov:openness.class` (docs/dataset-profile.md): `unconditional` (无条件开放) datasets are served in
full; `conditional` (有条件开放) and `closed` (不予开放) ones publish only their catalogue record,
data dictionary and the conditions and how to apply. Their rows are validated like any others
(a publisher learns of a bad file before anyone applies for it), but the build publishes neither
their database nor their files (gongkai/build.py), and plugins/openness.py answers every data URL
of theirs with 403 as a second line.
"""

from __future__ import annotations

CLASSES = ("unconditional", "conditional", "closed")
WITHHELD = ("conditional", "closed")


def openness_class(descriptor: dict) -> str | None:
    openness = descriptor.get("gov:openness")
    value = openness.get("class") if isinstance(openness, dict) else None
    return value if isinstance(value, str) else None


def is_withheld(openness: str | None) -> bool:
    """True for a class whose rows and files are not published. An unknown class is withheld
    too: the profile check refuses it, and a mistake must not publish data."""
    return openness is not None and openness != "unconditional"
