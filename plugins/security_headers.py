"""Security headers on every response, and redirects that can only stay on the site.

An ASGI wrapper rather than per-view code: Datasette's views, its static files, streamed CSV,
file downloads and error pages all pass through `http.response.start`, so one place covers
them all (gongkai.portal.http_policy says what is sent). It is `trylast` so it wraps outermost,
around plugins/error_pages.py's method check too.

`Location` is rewritten to a same-origin path: Datasette 0.65 answers `/\\example.com/` with
`Location: /\\example.com`, which browsers read as `//example.com` (fixed upstream only in
1.0 alphas), and any future redirect built from request data gets the same treatment.

HSTS is sent only over HTTPS: the request's own scheme, or `X-Forwarded-Proto: https` when
`GONGKAI_TRUST_X_FORWARDED_PROTO=1` says a proxy in front of the site sets that header.
"""

from __future__ import annotations

from datasette import hookimpl

from gongkai.portal import http_policy, inline_css


@hookimpl(trylast=True)
def asgi_wrapper(datasette):
    style_hashes = (inline_css.csp_hash(inline_css.css_text(datasette.static_mounts or [])),)
    plain = http_policy.policy_headers(style_hashes, https=False)
    secure = http_policy.policy_headers(style_hashes, https=True)
    trust_proto = http_policy.trust_forwarded_proto()

    def wrap(app):
        async def asgi(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            ours = secure if http_policy.is_https(scope, trust_proto) else plain

            async def send_with_policy(message):
                if message["type"] == "http.response.start":
                    headers = []
                    for name, value in message.get("headers") or []:
                        lower = name.lower()
                        if lower in http_policy.POLICY_NAMES:
                            continue  # ours replace any a view set
                        if lower == b"location":
                            value = http_policy.same_origin_location(value.decode("latin-1")).encode("latin-1")
                        headers.append((name, value))
                    message = dict(message, headers=headers + ours)
                await send(message)

            return await app(scope, receive, send_with_policy)

        return asgi

    return wrap
