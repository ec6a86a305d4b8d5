"""HTTP API under ``/api/apartment/``: administrators (complex, roll, elections, contests, rules,
candidates, codes, open/close), voters (authenticate with a code, cast, receipt) and the public
(elections, results, certificates)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

from litestar import Request, Response, delete, get, post
from litestar.params import FromPath, JSONBody

from core import EngineDep
from core import NotFound
from core import ANYONE, ActorDep, requires
from plugins.apartment_vote import certificate as certificates
from plugins.apartment_vote import service

TAGS = ["apartment_vote"]
ADMIN = "apartment.admin"
VOTE = "apartment.vote"
PERMISSIONS = {
    # elections are run by the complex's election management committee (a process administrator)
    ADMIN: ["process_admin"],
    # households sign in with their one-time code, not with a staff account
    VOTE: [ANYONE],
}
ADMIN_GUARD = [requires(ADMIN)]
VOTE_GUARD = [requires(VOTE)]


@dataclass
class ComplexIn:
    code: str
    name: str


@dataclass
class RollIn:
    csv: str
    replace: bool = False


@dataclass
class ElectionIn:
    complex: str
    title: str
    opens_at: str
    closes_at: str
    registration_deadline: str


@dataclass
class ContestIn:
    kind: Literal["building_representative", "chair", "auditor", "agenda"]
    title: str
    building: str | None = None
    seats: int | None = None


@dataclass
class RulesIn:
    changes: dict[str, Any]
    note: str


@dataclass
class CandidateIn:
    name: str
    statement: str = ""
    household: str | None = None


@dataclass
class CodesIn:
    households: list[str] | None = None
    reissue: bool = False


@dataclass
class AuthenticateIn:
    household: str
    code: str


@dataclass
class BallotIn:
    credential: str
    choices: dict[str, list[str]] = field(default_factory=dict)


# -- administrators --------------------------------------------------------------------------

@post("/api/apartment/complexes", guards=ADMIN_GUARD, sync_to_thread=True, tags=TAGS,
      summary="Register an apartment complex")
def register_complex(data: JSONBody[ComplexIn], engine: EngineDep) -> dict[str, Any]:
    return service.register_complex(engine, data.code, data.name)


@get("/api/apartment/complexes/{code:str}", sync_to_thread=True, tags=TAGS, summary="A complex: buildings and roll size")
def show_complex(code: FromPath[str], engine: EngineDep) -> dict[str, Any]:
    return service.complex_summary(service.get_complex(engine, code))


@post("/api/apartment/complexes/{code:str}/roll", guards=ADMIN_GUARD, sync_to_thread=True, tags=TAGS,
      summary="Import the roll (CSV: household,building,contact)", status_code=200)
def import_roll(code: FromPath[str], data: JSONBody[RollIn], engine: EngineDep) -> dict[str, Any]:
    return service.import_roll(engine, code, data.csv, replace=data.replace)


@post("/api/apartment/elections", guards=ADMIN_GUARD, sync_to_thread=True, tags=TAGS, summary="Schedule an election")
def schedule_election(data: JSONBody[ElectionIn], engine: EngineDep) -> dict[str, Any]:
    return service.schedule_election(engine, data.complex, data.title, data.opens_at, data.closes_at,
                                     data.registration_deadline)


@post("/api/apartment/elections/{election_id:uuid}/contests", guards=ADMIN_GUARD, sync_to_thread=True, tags=TAGS,
      summary="Add a contest (Art. 11 rules by default)")
def add_contest(election_id: FromPath[UUID], data: JSONBody[ContestIn], engine: EngineDep) -> dict[str, Any]:
    return service.add_contest(engine, election_id, data.kind, data.title, data.building, data.seats)


@post("/api/apartment/elections/{election_id:uuid}/contests/{contest_id:str}/rules", guards=ADMIN_GUARD,
      sync_to_thread=True, tags=TAGS, summary="Change a contest's rules (before voting opens)", status_code=200)
def change_rules(election_id: FromPath[UUID], contest_id: FromPath[str], data: JSONBody[RulesIn],
                 engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    return service.change_rules(engine, election_id, contest_id, data.changes, data.note, by=actor.id)


@post("/api/apartment/elections/{election_id:uuid}/contests/{contest_id:str}/candidates", guards=ADMIN_GUARD,
      sync_to_thread=True, tags=TAGS, summary="Register a candidate (until the registration deadline)")
def register_candidate(election_id: FromPath[UUID], contest_id: FromPath[str], data: JSONBody[CandidateIn],
                       engine: EngineDep) -> dict[str, Any]:
    return service.register_candidate(engine, election_id, contest_id, data.name, data.statement, data.household)


@delete("/api/apartment/elections/{election_id:uuid}/contests/{contest_id:str}/candidates/{candidate_id:str}",
        guards=ADMIN_GUARD, sync_to_thread=True, tags=TAGS, summary="Withdraw a candidate (before voting opens)")
def withdraw_candidate(election_id: FromPath[UUID], contest_id: FromPath[str], candidate_id: FromPath[str],
                       engine: EngineDep) -> None:
    service.withdraw_candidate(engine, election_id, contest_id, candidate_id)


@post("/api/apartment/elections/{election_id:uuid}/open", guards=ADMIN_GUARD, sync_to_thread=True, tags=TAGS,
      summary="Open voting (from its opening time)", status_code=200)
def open_election(election_id: FromPath[UUID], engine: EngineDep) -> dict[str, Any]:
    return service.open_election(engine, election_id)


@post("/api/apartment/elections/{election_id:uuid}/codes", guards=ADMIN_GUARD, sync_to_thread=True, tags=TAGS,
      summary="Send voting codes to households", status_code=200)
def issue_codes(election_id: FromPath[UUID], data: JSONBody[CodesIn], engine: EngineDep) -> dict[str, Any]:
    return service.issue_codes(engine, election_id, data.households, data.reissue)


@post("/api/apartment/elections/{election_id:uuid}/close", guards=ADMIN_GUARD, sync_to_thread=True, tags=TAGS,
      summary="Close voting (from its closing time) and record the results", status_code=200)
def close_election(election_id: FromPath[UUID], engine: EngineDep) -> dict[str, Any]:
    return service.close_election(engine, election_id)


# -- voters ----------------------------------------------------------------------------------

@post("/api/apartment/elections/{election_id:uuid}/authenticate", guards=VOTE_GUARD, sync_to_thread=True, tags=TAGS,
      summary="Trade a household's voting code for a ballot credential", status_code=200)
def authenticate(election_id: FromPath[UUID], data: JSONBody[AuthenticateIn], engine: EngineDep,
                 request: Request) -> dict[str, Any]:
    client = request.client.host if request.client else "unknown"
    return service.authenticate(engine, election_id, data.household, data.code, client)


@post("/api/apartment/elections/{election_id:uuid}/ballot", guards=VOTE_GUARD, sync_to_thread=True, tags=TAGS,
      summary="Cast (or replace) the household's ballot", status_code=200)
def cast(election_id: FromPath[UUID], data: JSONBody[BallotIn], engine: EngineDep) -> dict[str, Any]:
    return service.cast(engine, election_id, data.credential, data.choices)


@get("/api/apartment/elections/{election_id:uuid}/receipts/{tracking_code:str}", sync_to_thread=True, tags=TAGS,
     summary="What became of a ballot, by its tracking code")
def receipt(election_id: FromPath[UUID], tracking_code: FromPath[str], engine: EngineDep) -> dict[str, Any]:
    return service.track(engine, election_id, tracking_code)


# -- the public ------------------------------------------------------------------------------

@get("/api/apartment/elections", sync_to_thread=True, tags=TAGS, summary="Every election and its status")
def list_elections(engine: EngineDep) -> dict[str, Any]:
    return engine.read_models.get("apartment.elections").state


@get("/api/apartment/elections/{election_id:uuid}", sync_to_thread=True, tags=TAGS,
     summary="An election: contests, rules, candidates, ballot forms")
def show_election(election_id: FromPath[UUID], engine: EngineDep) -> dict[str, Any]:
    return service.describe(service.get_election(engine, election_id))


@get("/api/apartment/elections/{election_id:uuid}/results", sync_to_thread=True, tags=TAGS,
     summary="Results with turnout per building and the reasons")
def show_results(election_id: FromPath[UUID], engine: EngineDep) -> dict[str, Any]:
    return service.results(engine, election_id)


@get("/api/apartment/elections/{election_id:uuid}/contests/{contest_id:str}/certificate", sync_to_thread=True,
     tags=TAGS, summary="The signed result certificate (JSON)")
def show_certificate(election_id: FromPath[UUID], contest_id: FromPath[str], engine: EngineDep) -> dict[str, Any]:
    return certificates.certificate(engine, str(election_id), contest_id)


@get("/api/apartment/elections/{election_id:uuid}/contests/{contest_id:str}/certificate.html", sync_to_thread=True,
     tags=TAGS, summary="The signed result certificate as a printable page", media_type="text/html")
def show_certificate_html(election_id: FromPath[UUID], contest_id: FromPath[str], engine: EngineDep) -> Response[str]:
    signed = certificates.certificate(engine, str(election_id), contest_id)
    names = candidate_names(engine, election_id)
    return Response(certificates.render_html(signed, names), media_type="text/html; charset=utf-8")


@get("/api/apartment/certificate-key", sync_to_thread=True, tags=TAGS, summary="The key that verifies certificates")
def certificate_key(engine: EngineDep) -> dict[str, str]:
    return certificates.public_key(engine)


def candidate_names(engine: Any, election_id: UUID | str) -> dict[str, str]:
    election = service.get_election(engine, election_id)
    if not election.contests:
        raise NotFound("The election has no contests.")
    return {k: v["name"] for c in election.contests.values() for k, v in c["candidates"].items()}


ROUTES = [register_complex, show_complex, import_roll, schedule_election, add_contest, change_rules,
          register_candidate, withdraw_candidate, open_election, issue_codes, close_election, authenticate, cast,
          receipt, list_elections, show_election, show_results, show_certificate, show_certificate_html,
          certificate_key]
