"""/openapi.json describes the errors the API sends: application/problem+json
with the Problem schema, on every operation."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from briefing_qa.api import create_app
from briefing_qa.service import Engine
from briefing_qa.settings import Settings
from tests.fakes import FakeEmbedder

STATUSES = ("401", "403", "404", "413", "422", "429", "503")


def _spec_and_client(tmp_path):
    settings = Settings.from_env(env={}, index=tmp_path / "no-index", model="fake-bow")
    c = TestClient(create_app(settings, Engine(settings, FakeEmbedder())))
    return c.get("/openapi.json").json(), c


def test_every_operation_describes_its_errors_as_problems(tmp_path):
    spec, _ = _spec_and_client(tmp_path)
    operations = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]
    assert {("/v1/ask", "post"), ("/v1/search", "get"), ("/v1/verify", "post"), ("/readyz", "get")} <= {(p, m) for p, m, _ in operations}
    for path, method, op in operations:
        for status in STATUSES:
            response = op["responses"].get(status)
            assert response is not None, (path, method, status)
            assert list(response["content"]) == ["application/problem+json"], (path, method, status)
            assert response["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
            assert response["description"]
    assert "HTTPValidationError" not in json.dumps(spec) and "ValidationError" not in spec["components"]["schemas"]


def test_problem_schema_matches_what_is_sent(tmp_path):
    spec, c = _spec_and_client(tmp_path)
    schemas = spec["components"]["schemas"]
    problem = schemas["Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert problem["properties"]["status"]["type"] == "integer"
    assert set(schemas["ProblemError"]["properties"]) == {"loc", "msg"}
    r = c.post("/v1/ask", json={"question": "", "top_k": 99})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert set(problem["required"]) <= set(body) and isinstance(body["status"], int)
    assert body["errors"] and all(set(e) == {"loc", "msg"} and all(isinstance(x, str) for x in e["loc"]) for e in body["errors"])
