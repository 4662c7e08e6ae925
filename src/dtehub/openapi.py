"""The published OpenAPI document: FastAPI's, plus the bearer scheme every ``/v1`` method requires.

The scheme is declared here rather than as a ``Security(HTTPBearer())`` dependency: such a dependency
would run on every request only to be documented, and dtehub reads the header itself
(:mod:`dtehub.dependencies`) so that every failure answers the same JSON 401.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

BEARER_SCHEME = "bearerAuth"
_SECURED_PREFIXES = ("/v1/", "/V1/")


def install(app: FastAPI) -> None:
    build = app.openapi  # FastAPI's own, which builds and caches the document

    def openapi() -> dict[str, Any]:
        schema = build()
        schema.setdefault("components", {}).setdefault("securitySchemes", {})[BEARER_SCHEME] = {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token: `Authorization: Bearer dth_…`",
        }
        for path, operations in schema.get("paths", {}).items():
            if path.startswith(_SECURED_PREFIXES):
                for operation in operations.values():
                    operation["security"] = [{BEARER_SCHEME: []}]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
