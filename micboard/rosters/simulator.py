"""A Planning Center Services simulator: a real HTTP server on loopback that answers the
parts of the API the roster sync reads, as the public documentation describes them
(JSON:API documents, `per_page`/`offset` paging with `links.next`, HTTP Basic with an
application id and secret, 401 for a revoked token, 429 with `Retry-After`).

The tests and the demo (`manage.py run_pco_simulator`) use it; `plans`, `revoked` and
`rate_limits` are changed while it runs to stage a week's changes and the API's faults.
"""

from __future__ import annotations

import base64
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100


@dataclass
class SimMember:
    person_id: str
    name: str
    position: str
    status: str = "C"


@dataclass
class SimPlan:
    id: str
    title: str
    dates: str
    sort_date: str
    members: list[SimMember] = field(default_factory=list)


@dataclass
class SimServiceType:
    id: str
    name: str
    plans: list[SimPlan] = field(default_factory=list)


class PcoSimulator:
    """Serve `service_types` at http://127.0.0.1:<port>/services/v2/…"""

    def __init__(
        self, app_id: str, secret: str, service_types: list[SimServiceType], port: int = 0
    ) -> None:
        self.app_id = app_id
        self.secret = secret
        self.service_types = service_types
        self.revoked = False
        self.rate_limits: deque[int] = deque()  # the next requests answer 429 with these
        self.requests: list[str] = []  # every path and query asked, for the tests
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> PcoSimulator:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def plan(self, plan_id: str) -> SimPlan:
        return next(p for st in self.service_types for p in st.plans if p.id == plan_id)

    def answer(self, path: str, query: dict[str, list[str]], auth: str) -> tuple[int, dict, Any]:
        """Return (status, headers, body) for one GET."""
        with self.lock:
            self.requests.append(path + ("?" + "&".join(sorted(query)) if query else ""))
            if not self._authorized(auth):
                return 401, {}, _errors("401", "Unauthorized")
            if self.rate_limits:
                wait = self.rate_limits.popleft()
                detail = "Rate limit exceeded: 101 of 100 requests per 20 seconds"
                return 429, {"Retry-After": str(wait)}, _errors("429", detail)
            found = self._resources(path.rstrip("/").split("/"), query)
        if found is None:
            return 404, {}, _errors("404", "Resource Not Found")
        return 200, {}, _page(path, query, found)

    def _authorized(self, header: str) -> bool:
        expected = base64.b64encode(f"{self.app_id}:{self.secret}".encode()).decode()
        return not self.revoked and header == f"Basic {expected}"

    def _resources(self, parts: list[str], query: dict[str, list[str]]) -> list[dict] | None:
        match parts:
            case ["", "services", "v2", "service_types"]:
                return [_service_type(st) for st in self.service_types]
            case ["", "services", "v2", "service_types", st_id, "plans"]:
                st = self._service_type(st_id)
                future = query.get("filter") == ["future"]
                return None if st is None else [_plan(p) for p in _sorted_plans(st, future)]
            case ["", "services", "v2", "service_types", st_id, "plans", plan_id, "team_members"]:
                st = self._service_type(st_id)
                plan = next((p for p in st.plans if p.id == plan_id), None) if st else None
                return None if plan is None else [_member(plan, m) for m in plan.members]
        return None

    def _service_type(self, st_id: str) -> SimServiceType | None:
        return next((st for st in self.service_types if st.id == st_id), None)


def _sorted_plans(st: SimServiceType, future: bool) -> list[SimPlan]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    plans = [plan for plan in st.plans if plan.sort_date >= now] if future else st.plans
    return sorted(plans, key=lambda plan: plan.sort_date)


def _errors(code: str, detail: str) -> dict[str, Any]:
    return {"errors": [{"code": code, "detail": detail}]}


def _service_type(st: SimServiceType) -> dict[str, Any]:
    return {"type": "ServiceType", "id": st.id, "attributes": {"name": st.name}}


def _plan(plan: SimPlan) -> dict[str, Any]:
    attributes = {"title": plan.title, "dates": plan.dates, "sort_date": plan.sort_date}
    return {"type": "Plan", "id": plan.id, "attributes": attributes}


def _member(plan: SimPlan, member: SimMember) -> dict[str, Any]:
    return {
        "type": "PlanPerson",
        "id": f"{plan.id}{member.person_id}",
        "attributes": {
            "name": member.name,
            "status": member.status,
            "team_position_name": member.position,
        },
        "relationships": {"person": {"data": {"type": "Person", "id": member.person_id}}},
    }


def _page(path: str, query: dict[str, list[str]], items: list[dict]) -> dict[str, Any]:
    per_page = min(MAX_PER_PAGE, max(1, _int(query, "per_page", DEFAULT_PER_PAGE)))
    offset = max(0, _int(query, "offset", 0))
    chunk = items[offset : offset + per_page]
    kept = {name: values[0] for name, values in query.items() if name != "offset"}
    kept["per_page"] = str(per_page)

    def link(at: int) -> str:
        return path + "?" + "&".join(f"{k}={v}" for k, v in {**kept, "offset": str(at)}.items())

    links: dict[str, Any] = {"self": link(offset)}
    meta: dict[str, Any] = {"total_count": len(items), "count": len(chunk)}
    if offset + per_page < len(items):
        links["next"] = link(offset + per_page)
        meta["next"] = {"offset": offset + per_page}
    return {"links": links, "data": chunk, "included": [], "meta": meta}


def _int(query: dict[str, list[str]], name: str, default: int) -> int:
    try:
        return int(query[name][0])
    except (KeyError, ValueError):
        return default


def _handler(simulator: PcoSimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            status, headers, body = simulator.answer(
                url.path, parse_qs(url.query), self.headers.get("Authorization", "")
            )
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/vnd.api+json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: a request log line per page would drown the demo's output."""

    return Handler


DEMO_APP_ID = "demo-application-id"
DEMO_SECRET = "demo-secret-not-for-production"  # the simulator's own, like the devices' keys


def next_sunday(hour: int) -> tuple[str, str]:
    """Next Sunday at `hour` UTC, as a plan's `dates` and `sort_date`."""
    today = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    day = today + timedelta(days=(6 - today.weekday()) % 7 or 7)
    return day.strftime("%B %-d, %Y"), day.strftime("%Y-%m-%dT%H:%M:%SZ")


# The demo's team: ids 1001-1012 are the demo stage's performers (seed_roster_demo links
# them), 1013-1014 are new to Micboard.
DEMO_TEAM = [
    ("1001", "Maya Okafor", "Lead Vocals", "C"),
    ("1002", "Leo Brandt", "Vocals", "C"),
    ("1003", "Sofia Reyes", "Vocals", "D"),
    ("1005", "Amara Lindqvist", "Host", "C"),
    ("1006", "Tomás Ferreira", "Preaching", "C"),
    ("1007", "Grace Whitfield", "Vocals", "U"),
    ("1013", "Ruth Adeyemi", "Vocals", "C"),
    ("1014", "Caleb Moreno", "Vocals", "C"),
]


def demo_service_types() -> list[SimServiceType]:
    """A believable church week: next Sunday's two services and their vocal team."""
    team = [SimMember(pid, name, position, status) for pid, name, position, status in DEMO_TEAM]
    nine, eleven = next_sunday(9), next_sunday(11)
    return [
        SimServiceType(
            "201",
            "Sunday Services",
            [
                SimPlan("3001", "Sunday 9am", nine[0], nine[1], team),
                SimPlan("3002", "Sunday 11am", eleven[0], eleven[1], team[:5]),
            ],
        ),
        SimServiceType("202", "Youth Night", []),
    ]
