"""Downloads are complete or visibly broken, and big tables point at their published file.

Datasette's CSV stream (`?_stream=on`, views/base.py `as_csv`) catches any exception midway,
writes its text as the last "line" of the data and ends the response normally: a 200 that
looks complete. Its size cap (`max_csv_mb`) ends the same way. The site turns the cap off
(gongkai/serve.py) and swaps the stream's writer for `CompleteOrAbort`: Datasette writes rows
through the writer it is given, and the error text straight to the raw stream, which the swap
makes raise. The response then stops without its final chunk, so every HTTP client reports an
incomplete transfer (curl exits 18, browsers mark the download failed).

A table page with more than `large_table_rows` rows (gongkai/limits.py) gets `gk_full_download`,
the dataset's published file for that table (`/downloads/<dataset>/<path>`, from catalog.db),
which templates/table.html shows next to the export links.
"""

from __future__ import annotations

import logging

import datasette.views.base as views_base
from datasette import hookimpl
from datasette.utils import LimitedWriter

from gongkai import catalogue
from gongkai.limits import Limits

log = logging.getLogger("gongkai.downloads")


class StreamAborted(Exception):
    """A CSV stream failed midway: the connection is dropped instead of ending the body."""


class CompleteOrAbort(LimitedWriter):
    def __init__(self, writer, limit_mb):
        super().__init__(writer, limit_mb)
        self._write = writer.write

        async def refuse(text):
            log.error("CSV stream aborted midway: %s", text)
            raise StreamAborted(text)

        # Datasette's only direct write to the raw stream is the error text.
        writer.write = refuse

    async def write(self, data):
        self.bytes_count += len(data)
        if self.limit_bytes and self.bytes_count > self.limit_bytes:
            raise StreamAborted(f"CSV contains more than {self.limit_bytes} bytes")
        await self._write(data)


views_base.LimitedWriter = CompleteOrAbort


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    if view_name != "table" or not table:
        return {}

    async def inner():
        db = datasette.databases.get(database)
        limits = getattr(datasette, "_gongkai_limits", None) or Limits()
        count = ((db.cached_table_counts or {}).get(table) if db is not None else None) or 0
        if count <= limits.large_table_rows:
            return {}
        try:
            resource = await catalogue.of(datasette).read(lambda c: c.resource(database, table))
        except catalogue.CatalogueMissing:
            return {}
        if resource is None or not resource.path:
            return {}
        return {
            "gk_full_download": {"url": datasette.urls.path(f"/downloads/{database}/{resource.path}"), "rows": count}
        }

    return inner
