"""The publisher's tools (issue #11): `gongkai new` scaffolds a dataset folder, `gongkai describe`
drafts a resource and its Table Schema from a data file, `progress` shows long validations.

The CLI (gongkai/cli.py) is a thin click layer over these functions; every word a publisher
reads comes from gongkai/locales/publish.yaml, in both languages.
"""

from .words import PublishError

__all__ = ["PublishError"]
