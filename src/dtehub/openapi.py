"""The published OpenAPI document: FastAPI's, plus the bearer scheme every ``/v1`` method requires and
the rules of :mod:`dtehub.kit.parameters` that hold for every ``/v1`` method.

The scheme is declared here rather than as a ``Security(HTTPBearer())`` dependency: such a dependency
would run on every request only to be documented, and dtehub reads the header itself
(:mod:`dtehub.dependencies`) so that every failure answers the same JSON 401.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from dtehub.kit.parameters import (
    EMPTY_TEXT,
    WARNING_HEADER_DESCRIPTION,
    ParameterWarning,
    admits_empty,
    widen,
)

BEARER_SCHEME = "bearerAuth"
_SECURED_PREFIXES = ("/v1/", "/V1/")
_LENIENT_PREFIX = "/v1/"  # Duemint's methods; /V1/mipyme_get_document keeps Koywe's own rules
_WARNING_SCHEMA = "ParameterWarning"
_WARNINGS = {
    "type": "object",
    "properties": {
        "warnings": {
            "type": "array",
            "items": {"$ref": f"#/components/schemas/{_WARNING_SCHEMA}"},
            "description": "Present when a parameter was not used as sent: given empty, or an option "
            "given a value it cannot use (see the Warning headers)",
        }
    },
}


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
        _publish_parameter_rules(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _publish_parameter_rules(schema: dict[str, Any]) -> None:
    """Every optional query parameter of ``/v1`` takes an empty value (as absent), and every successful
    answer may carry ``warnings`` and ``Warning`` headers. Done once per built document."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if _WARNING_SCHEMA in components:
        return  # this document (cached by FastAPI) already says so
    components[_WARNING_SCHEMA] = ParameterWarning.model_json_schema()
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith(_LENIENT_PREFIX):
            continue
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and not parameter.get("required", False):
                    parameter["allowEmptyValue"] = True
                    if not admits_empty(parameter["schema"]):
                        widen(parameter["schema"], EMPTY_TEXT)
            for status, response in operation.get("responses", {}).items():
                if not str(status).startswith("2"):
                    continue
                response.setdefault("headers", {})["Warning"] = {
                    "description": WARNING_HEADER_DESCRIPTION,
                    "schema": {"type": "string"},
                }
                content = response.get("content", {}).get("application/json")
                if content is not None and "schema" in content:
                    content["schema"] = {"allOf": [content["schema"], _WARNINGS]}
