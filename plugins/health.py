"""`/-/health`: the probe a load balancer or Kubernetes asks (deploy/kubernetes/), and the
place to see which release a replica serves: `{"status": "ok", "release": ..., "built": ...,
"code": ...}`. It answers once the worker has started (gongkai.asgi runs Datasette's startup
during lifespan startup, before uvicorn accepts a request), and is never cached
(gongkai.portal.http_cache: `no-store`), so a probe always reaches the replica itself."""

from __future__ import annotations

from datasette import Response, hookimpl

from gongkai.portal import http_cache


async def health(datasette):
    validators = http_cache.validators_of(datasette)
    return Response.json(
        {
            "status": "ok",
            "release": validators.release.id,
            "built": validators.release.built.isoformat(),
            "code": validators.code,
        }
    )


@hookimpl
def register_routes():
    return [(r"^" + http_cache.HEALTH_PATH + r"$", health)]
