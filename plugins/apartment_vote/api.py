"""HTTP API under ``/api/apartment/``: administrators (complex, roll, elections, contests, rules,
candidates, codes, open/close), voters (authenticate with a code, cast, receipt) and the public
(elections, results, certificates)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, JSONBody

from core import ActorDep, EngineDep, requires
from plugins.apartment_vote import certificate as certificates
from plugins.apartment_vote import service, views
from plugins.apartment_vote.permissions import ADMIN, VOTE


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


class ApartmentController(Controller):
    """Every route of the plugin under ``/api/apartment``, one OpenAPI tag. One controller for
    the three faces (administrators, voters, the public): ``/elections`` serves two of them, and
    Litestar mounts a path from one controller only."""

    path = "/api/apartment"
    tags = ["apartment_vote"]

    # -- administrators -------------------------------------------------------------------------

    @post("/complexes", guards=[requires(ADMIN)], sync_to_thread=True, summary="Register an apartment complex")
    def register_complex(self, data: JSONBody[ComplexIn], engine: EngineDep) -> dict[str, Any]:
        return service.register_complex(engine, data.code, data.name)

    @post("/complexes/{code:str}/roll", guards=[requires(ADMIN)], sync_to_thread=True,
          summary="Import the roll (CSV: household,building,contact)", status_code=200)
    def import_roll(self, code: FromPath[str], data: JSONBody[RollIn], engine: EngineDep) -> dict[str, Any]:
        return service.import_roll(engine, code, data.csv, replace=data.replace)

    # The operationId the OpenAPI document has always published for this operation (Litestar
    # derived it from a wrapper's name when the handlers were mounted one by one); clients keep it.
    @post("/elections", guards=[requires(ADMIN)], sync_to_thread=True, summary="Schedule an election",
          operation_id="ApiApartmentElectionsAsynccallable")
    def schedule_election(self, data: JSONBody[ElectionIn], engine: EngineDep) -> dict[str, Any]:
        return service.schedule_election(engine, data.complex, data.title, data.opens_at, data.closes_at,
                                         data.registration_deadline)

    @post("/elections/{election_id:uuid}/contests", guards=[requires(ADMIN)], sync_to_thread=True,
          summary="Add a contest (Art. 11 rules by default)")
    def add_contest(self, election_id: FromPath[UUID], data: JSONBody[ContestIn],
                    engine: EngineDep) -> dict[str, Any]:
        return service.add_contest(engine, election_id, data.kind, data.title, data.building, data.seats)

    @post("/elections/{election_id:uuid}/contests/{contest_id:str}/rules", guards=[requires(ADMIN)],
          sync_to_thread=True, summary="Change a contest's rules (before voting opens)", status_code=200)
    def change_rules(self, election_id: FromPath[UUID], contest_id: FromPath[str], data: JSONBody[RulesIn],
                     engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
        return service.change_rules(engine, election_id, contest_id, data.changes, data.note, by=actor.id)

    @post("/elections/{election_id:uuid}/contests/{contest_id:str}/candidates", guards=[requires(ADMIN)],
          sync_to_thread=True, summary="Register a candidate (until the registration deadline)")
    def register_candidate(self, election_id: FromPath[UUID], contest_id: FromPath[str],
                           data: JSONBody[CandidateIn], engine: EngineDep) -> dict[str, Any]:
        return service.register_candidate(engine, election_id, contest_id, data.name, data.statement, data.household)

    @delete("/elections/{election_id:uuid}/contests/{contest_id:str}/candidates/{candidate_id:str}",
            guards=[requires(ADMIN)], sync_to_thread=True, summary="Withdraw a candidate (before voting opens)")
    def withdraw_candidate(self, election_id: FromPath[UUID], contest_id: FromPath[str],
                           candidate_id: FromPath[str], engine: EngineDep) -> None:
        service.withdraw_candidate(engine, election_id, contest_id, candidate_id)

    @post("/elections/{election_id:uuid}/open", guards=[requires(ADMIN)], sync_to_thread=True,
          summary="Open voting (from its opening time)", status_code=200)
    def open_election(self, election_id: FromPath[UUID], engine: EngineDep) -> dict[str, Any]:
        return service.open_election(engine, election_id)

    @post("/elections/{election_id:uuid}/codes", guards=[requires(ADMIN)], sync_to_thread=True,
          summary="Send voting codes to households", status_code=200)
    def issue_codes(self, election_id: FromPath[UUID], data: JSONBody[CodesIn],
                    engine: EngineDep) -> dict[str, Any]:
        return service.issue_codes(engine, election_id, data.households, data.reissue)

    @post("/elections/{election_id:uuid}/close", guards=[requires(ADMIN)], sync_to_thread=True,
          summary="Close voting (from its closing time) and record the results", status_code=200)
    def close_election(self, election_id: FromPath[UUID], engine: EngineDep) -> dict[str, Any]:
        return service.close_election(engine, election_id)

    # -- voters ---------------------------------------------------------------------------------

    @post("/elections/{election_id:uuid}/authenticate", guards=[requires(VOTE)], sync_to_thread=True,
          summary="Trade a household's voting code for a ballot credential", status_code=200)
    def authenticate(self, election_id: FromPath[UUID], data: JSONBody[AuthenticateIn], engine: EngineDep,
                     request: Request) -> dict[str, Any]:
        client = request.client.host if request.client else "unknown"
        return service.authenticate(engine, election_id, data.household, data.code, client)

    @post("/elections/{election_id:uuid}/ballot", guards=[requires(VOTE)], sync_to_thread=True,
          summary="Cast (or replace) the household's ballot", status_code=200)
    def cast(self, election_id: FromPath[UUID], data: JSONBody[BallotIn], engine: EngineDep) -> dict[str, Any]:
        return service.cast(engine, election_id, data.credential, data.choices)

    @get("/elections/{election_id:uuid}/receipts/{tracking_code:str}", sync_to_thread=True,
         summary="What became of a ballot, by its tracking code")
    def receipt(self, election_id: FromPath[UUID], tracking_code: FromPath[str],
                engine: EngineDep) -> dict[str, Any]:
        return service.track(engine, election_id, tracking_code)

    # -- the public -----------------------------------------------------------------------------

    @get("/complexes/{code:str}", sync_to_thread=True, summary="A complex: buildings and roll size")
    def show_complex(self, code: FromPath[str], engine: EngineDep) -> dict[str, Any]:
        return service.complex_summary(service.get_complex(engine, code))

    @get("/elections", sync_to_thread=True, summary="Every election and its status")
    def list_elections(self, engine: EngineDep) -> dict[str, Any]:
        return views.election_list(engine)

    @get("/elections/{election_id:uuid}", sync_to_thread=True,
         summary="An election: contests, rules, candidates, ballot forms")
    def show_election(self, election_id: FromPath[UUID], engine: EngineDep) -> dict[str, Any]:
        return service.describe(service.get_election(engine, election_id))

    @get("/elections/{election_id:uuid}/results", sync_to_thread=True,
         summary="Results with turnout per building and the reasons")
    def show_results(self, election_id: FromPath[UUID], engine: EngineDep) -> dict[str, Any]:
        return service.results(engine, election_id)

    @get("/elections/{election_id:uuid}/contests/{contest_id:str}/certificate", sync_to_thread=True,
         summary="The signed result certificate (JSON)")
    def show_certificate(self, election_id: FromPath[UUID], contest_id: FromPath[str],
                         engine: EngineDep) -> dict[str, Any]:
        return certificates.certificate(engine, str(election_id), contest_id)

    @get("/elections/{election_id:uuid}/contests/{contest_id:str}/certificate.html", sync_to_thread=True,
         summary="The signed result certificate as a printable page", media_type="text/html")
    def show_certificate_html(self, election_id: FromPath[UUID], contest_id: FromPath[str],
                              engine: EngineDep) -> Response[str]:
        signed = certificates.certificate(engine, str(election_id), contest_id)
        names = certificates.candidate_names(engine, election_id)
        return Response(certificates.render_html(signed, names), media_type="text/html")

    @get("/certificate-key", sync_to_thread=True, summary="The key that verifies certificates")
    def certificate_key(self, engine: EngineDep) -> dict[str, str]:
        return certificates.public_key(engine)
