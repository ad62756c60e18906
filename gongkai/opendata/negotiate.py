"""Content negotiation on a landing page URL: `Accept: text/turtle` gets the dataset's RDF,
a browser (whose Accept lists `text/html` first, or `*/*`) still gets the page.

`rdf_syntax(accept)` is the RDF syntax the client prefers to HTML, or None for the page. The
rule (RFC 9110 §12.5.1): the offer with the highest q-value wins; a tie goes to HTML, so only a
client that asks for RDF more than for HTML gets it. A wildcard counts for HTML only:
`*/*` means "anything", and the page is what the URL names.
"""

from __future__ import annotations

# media type → syntax (the file extension of the same document)
RDF_TYPES = {
    "text/turtle": "ttl",
    "application/x-turtle": "ttl",
    "application/ld+json": "jsonld",
    "application/rdf+xml": "rdf",
}
HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_ACCEPT = 2048  # a longer header is not worth parsing: the page


def _parse(accept: str) -> list[tuple[str, float]]:
    out = []
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        if media:
            out.append((media.strip().lower(), q))
    return out


def rdf_syntax(accept: str | None) -> str | None:
    if not accept or len(accept) > MAX_ACCEPT:
        return None
    best_rdf: tuple[float, str] | None = None
    html_q = 0.0
    for media, q in _parse(accept):
        if media in RDF_TYPES:
            if q > 0 and (best_rdf is None or q > best_rdf[0]):
                best_rdf = (q, RDF_TYPES[media])
        elif media in HTML_TYPES or media in ("*/*", "text/*"):
            html_q = max(html_q, q)
    if best_rdf is None or best_rdf[0] <= html_q:
        return None
    return best_rdf[1]
