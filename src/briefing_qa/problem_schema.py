"""The OpenAPI document describes the errors the API really sends:
application/problem+json (RFC 9457) with the `Problem` schema, not FastAPI's
default `HTTPValidationError` as application/json.

Every operation lists the common error statuses (COMMON) with the Problem
schema; each says when it happens, since some depend on the configuration
(keys, rate limit)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

PROBLEM = "application/problem+json"
COMMON: dict[int, str] = {
    401: "No API key or an unknown one (when BRIEFING_QA_API_KEYS is set)",
    403: "The route needs an admin key (when BRIEFING_QA_API_KEYS is set)",
    404: "No such document or route",
    413: "The request body is over BRIEFING_QA_MAX_BODY_BYTES",
    422: "The request is not valid: `errors` says where and why",
    429: "Too many requests from this client (BRIEFING_QA_RATE_LIMIT); see Retry-After",
    503: "No index is loaded yet, or it cannot be read",
}


class ProblemError(BaseModel):
    loc: list[str] = Field(description='Where: "body", "query" or "path", then the field')
    msg: str


class Problem(BaseModel):
    """An error, as application/problem+json (RFC 9457)."""

    model_config = ConfigDict(extra="allow", title="Problem")
    type: str = Field(description="A URI naming the kind of problem")
    title: str = Field(description="A short summary of the kind of problem")
    status: int = Field(description="The HTTP status")
    detail: str = Field(description="What went wrong with this request (for a 5xx, a fixed sentence)")
    errors: list[ProblemError] | None = Field(None, description="For 422: each invalid field")


def _response(description: str) -> dict:
    return {"description": description, "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def describe_problems(schema: dict) -> dict:
    """Put the Problem responses on every operation of an OpenAPI document, in place."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    defs = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(defs.pop("$defs", {}))
    components["Problem"] = defs
    for item in schema.get("paths", {}).values():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = op.setdefault("responses", {})
            for status, description in COMMON.items():
                responses[str(status)] = _response(description)
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def install(app) -> None:
    """Make app.openapi() describe problems (the document is built once, on first use)."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = describe_problems(build())
        return app.openapi_schema

    app.openapi = openapi
