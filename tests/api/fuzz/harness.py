"""schemathesis against the app's own OpenAPI description, in process, as one role on one election.

Each operation gets hypothesis-generated requests from its schema, valid ones and (negative mode)
invalid ones; path parameters mostly name what exists (``World.known``), so the routes run past their
404. Requests go through the test's ``TestClient`` (the app already started, its election built) and
every response is checked by schemathesis: no 5xx, a declared status code and content type, a body
that conforms to the declared schema. Failures are collected per operation and reported together.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .world import World

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SEED = 20221120
PHASE_CHANGES = {
    ("POST", "/api/v1/elections/{election_id}/open"),
    ("POST", "/api/v1/elections/{election_id}/close"),
    ("POST", "/api/v1/elections/{election_id}/key"),
    ("POST", "/api/v1/elections/{election_id}/tally"),
    ("POST", "/api/v1/elections/{election_id}/decrypt"),
}
"""Fuzzed after every other operation of the phase: the CEC's calls among them end the phase."""


@dataclass
class Report:
    """What one run did: operations and requests per role, statuses seen, failures."""

    operations: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


_SCHEMAS: dict[str, Any] = {}


def load_schema(client: Any) -> Any:
    """The app's OpenAPI description as a schemathesis schema (the app is reached through ``client``).

    Loaded once per process and description (every test's app serves the same one).
    """
    spec = client.app.openapi()
    key = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
    if key not in _SCHEMAS:
        _SCHEMAS[key] = schemathesis.openapi.from_dict(spec)
    return _SCHEMAS[key]


def operations(schema: Any) -> Iterator[Any]:
    """Every operation of the description, the phase-changing ones last."""
    ops = [result.ok() for result in schema.get_all_operations()]
    ops.sort(key=lambda op: (op.method.upper(), op.path) in PHASE_CHANGES)
    yield from ops


def _path_names(op: Any) -> list[str]:
    return [p.name for p in op.path_parameters]


def _query_names(op: Any) -> list[str]:
    return [p.name for p in op.query]


def _send(client: Any, case: Any, headers: dict[str, str]) -> Any:
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    sent = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() != "authorization"}
    sent.update(headers)
    body: dict[str, Any] = {}
    if "json" in kwargs:
        body["json"] = kwargs["json"]
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        body["content"] = data if isinstance(data, bytes | str) else str(data)
    return client.request(kwargs["method"], kwargs["url"], headers=sent, params=kwargs.get("params"), **body)


def fuzz_operation(client: Any, world: World, role: str, op: Any, examples: int, report: Report) -> None:
    """``examples`` requests of each generation mode to ``op`` as ``role``; failures go to ``report``."""
    headers = world.tokens[role]
    names = _path_names(op)
    queries = [q for q in _query_names(op) if q in world.known]

    def strategy(mode: GenerationMode) -> Any:
        """The operation's cases with the known path and query values put in (the generated ones mostly)."""
        fixed = st.fixed_dictionaries({n: st.sampled_from(world.known[n]) for n in names if n in world.known})
        query = st.fixed_dictionaries({q: st.sampled_from(world.known[q]) for q in queries})

        def named(args: tuple[Any, dict[str, Any], dict[str, Any], bool]) -> Any:
            case, path, q, keep_generated_query = args
            if path:
                case.path_parameters = {**(case.path_parameters or {}), **path}
            if q and not keep_generated_query:
                case.query = {**(case.query or {}), **q}
            return case

        return st.tuples(op.as_strategy(mode), fixed, query, st.booleans()).map(named)

    label = f"{world.phase}/{role} {op.method.upper()} {op.path}"
    report.operations[role] = report.operations.get(role, 0) + 1
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @seed(SEED)
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy(mode))
        def run(case: Any) -> None:
            response = _send(client, case, headers)
            report.requests[role] = report.requests.get(role, 0) + 1
            report.statuses[response.status_code] = report.statuses.get(response.status_code, 0) + 1
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Unsatisfiable:
            # nothing to make invalid (no parameter, no body): the negative mode has no request to send
            if mode is GenerationMode.POSITIVE:
                report.failures.append(f"{label} ({mode.value}): no request could be generated")
                return
        except (Exception, BaseExceptionGroup) as exc:  # failed checks, or a request not sent
            text = str(exc).strip()
            report.failures.append(f"{label} ({mode.value}): {type(exc).__name__}: {text[:3000]}")
            return


def fuzz(client: Any, world: World, roles: tuple[str, ...], examples: int) -> Report:
    """Every operation as each of ``roles`` in turn (phase changes last, for every role)."""
    schema = load_schema(client)
    ops = list(operations(schema))
    report = Report()
    start = time.perf_counter()
    ordinary = [op for op in ops if (op.method.upper(), op.path) not in PHASE_CHANGES]
    changes = [op for op in ops if (op.method.upper(), op.path) in PHASE_CHANGES]
    for group in (ordinary, changes):
        for role in roles:
            for op in group:
                fuzz_operation(client, world, role, op, examples, report)
    report.seconds = time.perf_counter() - start
    return report
