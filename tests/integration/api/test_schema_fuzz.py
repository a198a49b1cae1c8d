"""The daemon's API fuzzed from its own published OpenAPI schema (schemathesis 4), over a started
daemon on the paper venue (PAPER-USD; MNQ, MES, BTC-PERP), on every operation of the schema, with
schemathesis's deterministic coverage cases (boundaries, wrong types, unexpected methods) and then
Hypothesis's generated ones, valid and invalid:

- anonymous: no 5xx; every operation but `/healthz` and `/api/auth/login` answers 401; nothing changes;
- admin: no 5xx; the generated bodies really change rules, settings, halts and tokens (each operation
  starts from the module's rules, and fuzz dictionaries feed in half of the time the accounts,
  instruments, strategies and figures the daemon knows), and after every request `GET /api/risk`
  and `GET /api/rules` still answer 200 and conform to their schemas;
  a request answered 4xx changes nothing: the rules, the strategies, the lockouts, the API tokens,
  the pause, halts and kill switch of `/api/risk`, and the journal's last sequence number;
- both: every answer conforms to the schema, by schemathesis's own checks (status code documented,
  content type, body, headers, `Allow` on a 405, invalid data rejected, valid data accepted).

Where the daemon runs. `Daemon.start` is async and every endpoint runs on the daemon's own loop
(app.py), so requests must reach the app on the loop the daemon runs on. Schemathesis's in-process
ASGI transport drives an app on a process-wide loop of its own (a blocking portal shared by every
app) and restarts the app's lifespan after each test; the sync Starlette TestClient runs the app on a
loop per client. Neither is the daemon's loop. So this module owns one loop, in a background thread
(an anyio blocking portal): the daemon is started there, the app's lifespan (the live feed) runs
there, and each request schemathesis sends goes through a `requests` adapter that hands it to the
app on that loop (httpx's ASGI transport) and waits for the answer. State is read on that loop too,
between two requests, once the executor has nothing under way, so a read never races the daemon.
Generation, serialisation and the checks are schemathesis's: `APIOperation.as_strategy`,
`BaseSchema.iter_coverage_cases`, `Case.call`, `Case.validate_response`.

Why not `@schemathesis.pytest.from_fixture(...).parametrize()`: the schema is the one the running app
publishes, so it exists only inside a fixture, and `from_fixture` in schemathesis 4.32.5 fails on
pytest 9.2 ("AttributeError: 'Function' object has no attribute '_nodeid'": it renames the test node
through a private attribute pytest 9.2 no longer has). So each operation is a pytest subtest of one
test per role. Hypothesis is derandomized and keeps no example database: every run is the same run.

What the daemon does wrong today is pinned by the strict xfail tests at the end. The fuzzing
tolerates exactly those answers (`_tolerated`) so that it stays green and catches anything new;
each xfail fails once its bug is fixed, which is the moment to drop its tolerance here.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import requests
import requests.adapters
import schemathesis
import urllib3
import yaml
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import allow_header_conformance, negative_data_rejection, status_code_conformance
from schemathesis.specs.openapi.checks import unsupported_method

from riskguard.store.credentials import Role
from riskguard.store.journal import Journal
from tests.integration._rig import ManualClock, build, paper_venue, until
from tests.integration.api._client import BASE_URL, FAST, Api, api_for

RULES = """\
  daily_realized_loss: {limit: -50, reset_time: "00:00", timezone: UTC}
  drawdown_kill_switch: {max_drawdown_pct: 10}
  max_contracts: {limit: 3}
  strategy_settings: {strategies: {"s1/MNQ": {max_strategy_loss: 100, risk_per_trade: 100}}}
"""
PUBLIC = {"/healthz", "/api/auth/login"}  # the login itself, and a supervisor's health probe
READS = ("/api/risk", "/api/rules", "/api/strategies", "/api/lockouts", "/api/auth/tokens")

#: Generated cases per operation and role, after the coverage cases (about 690 per role in all).
EXAMPLES = 30
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    # An example is a few in-process requests, not a pure function, and negative cases of a body with
    # pattern-constrained fields are filtered a lot by design: neither says anything about the API.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

#: Schemathesis's checks, configured where the API is right and the default is not. All are on.
#: `positive_data_acceptance` expects a schema-valid request to be accepted, but this API checks more
#: than its JSON Schema can say and answers 422 naming the field, as docs/api.md promises ("a
#: request that is wrong in any way ... is answered 422"): `confirm` must be `true` (the schema says
#: boolean), a decimal must parse and be in range (the schema says a number or any string), the rules
#: are validated as the config file's are (the schema says any object), an order's quantity must be
#: positive. So a 422 is a legitimate answer to a schema-valid request; the rest of the default stays.
CHECKS = {
    "positive_data_acceptance": {
        "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"],
    },
}

#: Fuzz dictionaries: things this daemon knows (its accounts, instruments, rules, a strategy it lists,
#: sensible figures), drawn for half of the values of these fields, so that generated requests get
#: past "no such account" and "must be a decimal" to the changes and the gate's decisions. The other
#: half stays schema-derived. In negative mode schemathesis only draws entries that break the schema.
DICTIONARIES = {
    "accounts": {"values": ["PAPER-USD", "PAPER-USDC"]},
    "strategies": {"values": ["s1", "s2"]},
    "symbols": {"values": ["MNQ", "MES", "BTC-PERP"]},
    "rules": {"values": ["max_contracts", "drawdown_kill_switch", "daily_realized_loss", "strategy_settings"]},
    "quantities": {"values": ["1", "2", "5", "0.5", 3]},
    "prices": {"values": ["20000.25", "19990", "5000.00", "60000.0"]},
    "figures": {"values": ["0.5", "2.5", "12.5", "100", 50]},
}
_HALF = 0.5
PARAMETERS = {
    "body.account": {"dictionary": "accounts", "probability": _HALF},
    **{key: {"dictionary": "strategies", "probability": _HALF} for key in ("body.strategy", "path.strategy_id")},
    **{key: {"dictionary": "symbols", "probability": _HALF} for key in ("body.symbol", "path.symbol")},
    "body.rule": {"dictionary": "rules", "probability": _HALF},
    "body.qty": {"dictionary": "quantities", "probability": _HALF},
    **{
        f"body.{name}": {"dictionary": "prices", "probability": _HALF}
        for name in ("price", "stop_price", "stop_loss", "take_profit")
    },
    **{
        f"body.{name}": {"dictionary": "figures", "probability": _HALF}
        for name in ("risk_per_trade", "stop_loss_dollars", "max_strategy_loss", "margin_leverage", "model_reward")
    },
}

# FastAPI's answer to a body it cannot decode at all (not UTF-8 ...), before any dependency runs.
_UNPARSABLE = {"detail": "There was an error parsing the body"}


# -- the daemon on a loop of its own -----------------------------------------------------------------


@dataclass(frozen=True)
class State:
    """What a rejected request must leave as it was."""

    reads: dict[str, Any]
    journal_seq: int


@dataclass
class Served:
    """The API over a started daemon, both on `portal`'s loop."""

    portal: BlockingPortal
    api: Api
    http: httpx.AsyncClient

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api.tokens[Role.ADMIN]}"}

    async def _request(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes | None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        answer = await self.http.request(method, url, headers=headers, content=body)
        return answer.status_code, list(answer.headers.multi_items()), answer.content

    def request(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes | None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        return self.portal.call(self._request, method, url, headers, body)

    async def _configure(self, rules: str) -> None:
        body = {"rules": yaml.safe_load(rules), "reason": "the module's rules"}
        answer = await self.http.put("/api/rules", json=body, headers=self.admin)
        assert answer.status_code == 200, answer.text

    def configure(self, rules: str) -> None:
        """The rules of `rules` (the module's YAML) in force, as an admin puts them."""
        self.portal.call(self._configure, rules)

    async def _read(self) -> tuple[dict[str, httpx.Response], int]:
        await self.api.rig.daemon.executor.drain()  # no action of an earlier request still under way
        answers = {path: await self.http.get(path, headers=self.admin) for path in READS}
        return answers, self.api.rig.journal.last_seq()

    def state(self, schema: schemathesis.BaseSchema) -> State:
        """The state now. `/api/risk` and `/api/rules` must answer 200 and conform to their schemas."""
        answers, seq = self.portal.call(self._read)
        for path in ("/api/risk", "/api/rules"):
            assert answers[path].status_code == 200, (path, answers[path].status_code, answers[path].text)
            schema[path]["GET"].validate_response(answers[path])
        reads = {path: answer.json() for path, answer in answers.items()}
        reads["/api/risk"] = {key: reads["/api/risk"][key] for key in ("paused", "halts", "kill_switch_active")}
        return State(reads, seq)


class _LoopAdapter(requests.adapters.HTTPAdapter):
    """`requests`' transport (what schemathesis sends with) to the app on the daemon's loop."""

    def __init__(self, served: Served) -> None:
        super().__init__()
        self._served = served

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        assert request.method is not None
        assert request.url is not None
        body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        status, headers, content = self._served.request(
            request.method, request.url, list(request.headers.items()), body
        )
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(content), headers=headers, status=status, preload_content=False, version=11
        )
        # No `_original_response`, so requests keeps no cookie: a login never signs in what follows.
        return self.build_response(request, raw)


def session_for(served: Served) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy, no ~/.netrc credentials: anonymous means anonymous
    session.mount("http://", _LoopAdapter(served))
    return session


async def _quiet(journal: Journal, seconds: float = 0.2) -> None:
    """Until the journal has not moved for `seconds` (the venue's first marks come in after start)."""
    deadline = time.monotonic() + 5.0
    last, since = journal.last_seq(), time.monotonic()
    while time.monotonic() - since < seconds:
        assert time.monotonic() < deadline, "the daemon kept journaling with nothing happening"
        await asyncio.sleep(0.02)
        if journal.last_seq() != last:
            last, since = journal.last_seq(), time.monotonic()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One daemon for the module: the anonymous fuzzing, the admin's (which changes things), the pins."""
    db = tmp_path_factory.mktemp("schema-fuzz") / "riskguard.db"
    with start_blocking_portal() as portal:
        stack = AsyncExitStack()

        async def start() -> Served:
            clock = ManualClock(datetime(2026, 6, 10, 14, 0, tzinfo=UTC), monotonic=1000.0)
            rig = build(db, RULES, paper_venue(clock), clock, retry=FAST)
            stack.callback(rig.journal.close)
            await rig.daemon.start()
            stack.push_async_callback(rig.daemon.stop)
            api = api_for(rig, clock, RULES)
            await stack.enter_async_context(api.app.router.lifespan_context(api.app))
            http = httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url=BASE_URL)
            await stack.enter_async_context(http)
            await until(lambda: rig.daemon.ready)
            await _quiet(rig.journal)
            return Served(portal, api, http)

        try:
            yield portal.call(start)
        finally:
            portal.call(stack.aclose)


@pytest.fixture(scope="module")
def api_schema(served: Served) -> schemathesis.BaseSchema:
    """The schema the running app publishes at /openapi.json."""

    async def fetch() -> dict[str, Any]:
        answer = await served.http.get("/openapi.json")
        assert answer.status_code == 200
        return answer.json()

    config = schemathesis.Config.from_dict({"checks": CHECKS, "dictionaries": DICTIONARIES, "parameters": PARAMETERS})
    return schemathesis.openapi.from_dict(served.portal.call(fetch), config=config)


# -- fuzzing -----------------------------------------------------------------------------------------


def operations(schema: schemathesis.BaseSchema) -> list[schemathesis.APIOperation]:
    found = [operation for path in schema for operation in schema[path].values()]
    assert len(found) >= 26, [operation.label for operation in found]
    return found


def run_cases(
    schema: schemathesis.BaseSchema, operation: schemathesis.APIOperation, check: Callable[[schemathesis.Case], None]
) -> None:
    """`check` on the operation's coverage cases (schemathesis's deterministic ones: each boundary,
    each wrong type, each unexpected method), then on `EXAMPLES` generated ones, valid and invalid."""
    for case in schema.iter_coverage_cases(
        operation,
        generation_modes=list(GenerationMode),
        generation_config=schema.config.generation_for(operation=operation, phase="coverage"),
    ):
        check(case)

    @FUZZ
    @given(
        case=st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )
    )
    def generated(case: schemathesis.Case) -> None:
        check(case)

    generated()


def _json(response: schemathesis.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _only_a_padded_reason(case: schemathesis.Case) -> bool:
    """The body breaks its schema only by the length of a `reason` padded with whitespace. The API
    strips a reason before it measures it (1 to 500 characters, docs/api.md): accepting
    "x" followed by 600 spaces is right, and no JSON Schema keyword can say "after stripping"."""
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("reason"), str):
        return False
    stripped = {**body, "reason": body["reason"].strip()}
    alternatives = list(case.operation.body)
    return not any(alt.is_valid(body) for alt in alternatives) and any(alt.is_valid(stripped) for alt in alternatives)


def _tolerated(case: schemathesis.Case, response: schemathesis.Response) -> list[schemathesis.CheckFunction]:
    """The checks not to run on this very answer: those a known bug fails (each pinned by an xfail
    test below), and `negative_data_rejection` on a reason that is only padded."""
    if response.status_code < 300 and _only_a_padded_reason(case):
        return [negative_data_rejection]
    if response.status_code == 401 and case.method.upper() != case.operation.method.upper():
        # Decided: a stranger is told 401 before anything else, even for a method the path does not
        # have; a 405 would tell them which methods exist (riskguard.api.auth.SignedInFirst).
        return [unsupported_method]
    answer = _json(response)
    if response.status_code == 400 and answer == _UNPARSABLE:
        return [status_code_conformance]  # test_api_when_a_body_is_not_even_text_then_422_as_documented
    documented = {method.upper() for method in case.operation.schema[case.operation.path]}
    allowed = {method.strip() for method in response.headers.get("allow", [""])[0].split(",")} - {""}
    if response.status_code == 405 and allowed and allowed < documented:
        return [allow_header_conformance]  # test_api_when_a_path_has_two_methods_then_a_405_allows_both
    return []


def validate(
    case: schemathesis.Case, response: schemathesis.Response, session: requests.Session, headers: dict[str, str]
) -> None:
    """Schemathesis's checks on the answer, `not_a_server_error` first among them."""
    case.validate_response(
        response,
        headers=headers,
        excluded_checks=_tolerated(case, response),
        transport_kwargs={"session": session, "base_url": BASE_URL, "headers": headers},
    )


def sent(case: schemathesis.Case, response: schemathesis.Response) -> str:
    return f"{case.as_curl_command()}\n-> {response.status_code} {response.text[:500]}"


def test_fuzz_when_anonymous_then_401_everywhere_but_health_and_login_and_nothing_changes(
    served: Served, api_schema: schemathesis.BaseSchema, subtests: pytest.Subtests
) -> None:
    session = session_for(served)

    def check(case: schemathesis.Case) -> None:
        # Arrange
        before = served.state(api_schema)
        # Act
        response = case.call(base_url=BASE_URL, session=session)
        # Assert
        validate(case, response, session, {})
        own_method = case.method.upper() == case.operation.method.upper()  # not a coverage case's TRACE
        if own_method and case.operation.path not in PUBLIC:
            assert response.status_code == 401, sent(case, response)
        assert served.state(api_schema) == before, sent(case, response)  # whatever the answer

    for operation in operations(api_schema):
        with subtests.test(msg=operation.label):
            run_cases(api_schema, operation, check)


def test_fuzz_when_admin_then_no_5xx_the_daemon_stays_consistent_and_a_rejected_request_changes_nothing(
    served: Served, api_schema: schemathesis.BaseSchema, subtests: pytest.Subtests
) -> None:
    session = session_for(served)

    def check(case: schemathesis.Case) -> None:
        # Arrange
        before = served.state(api_schema)
        # Act
        response = case.call(base_url=BASE_URL, session=session, headers=served.admin)
        # Assert
        validate(case, response, session, served.admin)
        after = served.state(api_schema)  # /api/risk and /api/rules: 200, and as their schemas say
        if 400 <= response.status_code < 500:
            assert after == before, sent(case, response)

    for operation in operations(api_schema):
        served.configure(RULES)  # each operation from the module's rules (PUT /api/rules replaces them)
        with subtests.test(msg=operation.label):
            run_cases(api_schema, operation, check)
    served.state(api_schema)  # and after all of it


# -- what the fuzzing found: each one strict, so that its fix fails it and drops its tolerance above ----


@pytest.mark.parametrize("body", [b"{", b"\xff"], ids=["json-invalid", "not-text"])
def test_api_when_anonymous_sends_a_body_that_is_not_json_then_401(served: Served, body: bytes) -> None:
    # Act
    answer = session_for(served).post(
        f"{BASE_URL}/api/ops/halt", data=body, headers={"Content-Type": "application/json"}
    )
    # Assert
    assert answer.status_code == 401, answer.text  # found by the fuzzing: it was 422 json_invalid, or 400


@pytest.mark.xfail(strict=True, reason="BUG: 400, which the schema does not document and docs/api.md says is 422")
def test_api_when_a_body_is_not_even_text_then_422_as_documented(served: Served) -> None:
    # Act
    answer = session_for(served).put(
        f"{BASE_URL}/api/rules", data=b"\xff", headers={**served.admin, "Content-Type": "application/json"}
    )
    # Assert
    assert answer.status_code == 422, answer.text  # today: 400 {"detail": "There was an error parsing the body"}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/ops/reset", {"confirm": True, "reason": "fuzz", "rule": "no_such_rule"}),
        ("/api/ops/halt", {"confirm": True, "reason": "fuzz", "account": "NO-SUCH-ACCOUNT"}),
        ("/api/ops/resume", {"reason": "fuzz", "account": "NO-SUCH-ACCOUNT"}),
        ("/api/ops/reset-kill-switch", {"confirm": True, "reason": "fuzz", "account": "NO-SUCH-ACCOUNT"}),
    ],
)
def test_ops_when_the_body_names_no_such_account_or_rule_then_the_answer_is_documented(
    served: Served, api_schema: schemathesis.BaseSchema, path: str, body: dict[str, Any]
) -> None:
    # Arrange
    case = api_schema[path]["POST"].Case(body=body, media_type="application/json")
    # Act
    response = case.call(base_url=BASE_URL, session=session_for(served), headers=served.admin)
    # Assert
    assert response.status_code == 404, response.text
    case.validate_response(response, checks=[status_code_conformance])  # found by the fuzzing: it was undocumented


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/ops/pause", {"reason": "\x1f"}),
        ("/api/ops/resume", {"reason": "\x1c\x1d"}),
        ("/api/ops/halt", {"confirm": True, "reason": "\x1e"}),
        ("/api/ops/reset", {"confirm": True, "reason": "\x1f"}),
        ("/api/ops/reset-kill-switch", {"confirm": True, "reason": "\x1f"}),
        ("/api/strategies/s1/MNQ/reset-kill-switch", {"confirm": True, "reason": "\x1f"}),
    ],
)
def test_ops_when_the_reason_is_only_separator_characters_then_422_and_nothing_changes(
    served: Served, api_schema: schemathesis.BaseSchema, path: str, body: dict[str, Any]
) -> None:
    # Arrange
    session = session_for(served)
    served.configure(RULES)  # the fuzzing replaced them
    before = served.state(api_schema)
    # Act
    answer = session.post(f"{BASE_URL}{path}", json=body, headers=served.admin)
    # Assert
    assert answer.status_code == 422, answer.text  # found by the fuzzing: it was a 500
    assert served.state(api_schema) == before


@pytest.mark.xfail(strict=True, reason="BUG: Starlette's 405 names only the first route's method in Allow")
@pytest.mark.parametrize(("path", "methods"), [("/api/rules", {"GET", "PUT"}), ("/api/auth/tokens", {"GET", "POST"})])
def test_api_when_a_path_has_two_methods_then_a_405_allows_both(served: Served, path: str, methods: set[str]) -> None:
    # Act
    answer = session_for(served).request("PATCH", f"{BASE_URL}{path}", headers=served.admin)
    # Assert
    assert answer.status_code == 405
    assert {method.strip() for method in answer.headers["allow"].split(",")} == methods  # today: GET only
