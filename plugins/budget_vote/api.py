"""HTTP API of the participatory budget, under ``/api/budget`` (one controller).

Public: cycles, projects, published results (JSON and CSV open data), receipts. Residents: cast
or replace a ballot; proposers: submit proposals. Officials: open and configure cycles, screen,
advance phases, enter paper ballots, tally, override with a reason, validate."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

import attrs
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from core import ActorDep, EngineDep, csv_response, requires
from core.voting import VotingKit
from plugins.budget_vote import service
from plugins.budget_vote.views import (ballot_projects, cycle_summaries, cycle_view, open_data_csv, public_result,
                                      result_view)

PATH = "/api/budget"
TAGS = ["budget"]


# -- request bodies -------------------------------------------------------------------------------
@attrs.define
class BallotStyleIn:
    kind: Literal["approval", "knapsack"] = "approval"
    min_projects: int = 1
    max_projects: int | None = None
    cost_limit: int | None = None


@attrs.define
class RuleIn:
    name: Literal["greedy", "equal-shares"] = "greedy"
    satisfaction: Literal["cost", "cardinality"] = "cost"
    completion: Literal["none", "add1", "greedy", "add1-greedy"] = "add1-greedy"
    increment_percent: int = 1


@attrs.define
class CycleIn:
    name: str
    budget: int
    scope: str = "district"
    voting_opens: str | None = None
    voting_closes: str | None = None
    ballot_style: BallotStyleIn | None = None
    rule: RuleIn | None = None
    last_vote_counts: bool = True


@attrs.define
class SettingsIn:
    ballot_style: BallotStyleIn | None = None
    rule: RuleIn | None = None
    last_vote_counts: bool | None = None


@attrs.define
class ProposalIn:
    title: str
    dong: str
    category: str
    proposer: str
    description: str = ""
    proposer_role: Literal["resident", "council_member"] = "resident"


@attrs.define
class ScreeningIn:
    feasible: bool
    reason: str
    cost: int | None = None


@attrs.define
class WithdrawalIn:
    reason: str


@attrs.define
class PhaseIn:
    to: Literal["screening", "voting", "tallying"]


@attrs.define
class RollIn:
    csv: str  # header: entry_id,contact[,channel][,group][,name]


@attrs.define
class CodesIn:
    entry_ids: list[str] | None = None


@attrs.define
class SignInVoter:
    entry_id: str
    code: str


@attrs.define
class BallotIn:
    credential: str
    choice: list[str]


@attrs.define
class PaperBallotIn:
    entry_id: str
    choice: list[str]


@attrs.define
class OverrideIn:
    action: Literal["fund", "unfund"]
    project_id: str
    reason: str


def _dict(value: Any) -> dict[str, Any] | None:
    return None if value is None else attrs.asdict(value)


class BudgetController(Controller):
    """The participatory budget's HTTP face. Guards are per handler: the face mixes public reads,
    residents' ballots and officials' commands."""

    path = PATH
    tags = TAGS

    # -- public ------------------------------------------------------------------------------------
    # the operationId is spelt out as the published OpenAPI document has it: Litestar derived this
    # name when GET and POST /cycles were registered one after the other, as separate handlers
    @get("/cycles", sync_to_thread=True, summary="Budget cycles", operation_id="ApiBudgetCyclesAsynccallable")
    def list_cycles(self, engine: EngineDep) -> dict[str, Any]:
        return cycle_summaries(engine)

    @get("/cycles/{cycle_id:uuid}", sync_to_thread=True, summary="A cycle with its proposals")
    def show_cycle(self, cycle_id: FromPath[UUID], engine: EngineDep) -> dict[str, Any]:
        return cycle_view(service.get_cycle(engine, cycle_id))

    @get("/cycles/{cycle_id:uuid}/projects", sync_to_thread=True,
         summary="Projects on the ballot, with their costs")
    def list_projects(self, cycle_id: FromPath[UUID], engine: EngineDep) -> list[dict[str, Any]]:
        return ballot_projects(service.get_cycle(engine, cycle_id))

    @get("/cycles/{cycle_id:uuid}/results", sync_to_thread=True,
         summary="Published result (409 while embargoed)")
    def public_results(self, cycle_id: FromPath[UUID], engine: EngineDep) -> dict[str, Any]:
        return public_result(service.get_cycle(engine, cycle_id))

    @get("/cycles/{cycle_id:uuid}/results.csv", sync_to_thread=True,
         summary="Published result as CSV open data", media_type="text/csv")
    def public_results_csv(self, cycle_id: FromPath[UUID], engine: EngineDep) -> Response[str]:
        body = open_data_csv(service.get_cycle(engine, cycle_id))
        return csv_response(body, f"budget-{cycle_id}.csv")

    @get("/cycles/{cycle_id:uuid}/receipts/{code:str}", sync_to_thread=True,
         summary="Check a ballot receipt (tracking code)")
    def check_receipt(self, cycle_id: FromPath[UUID], code: FromPath[str], engine: EngineDep) -> dict[str, Any]:
        return service.track(engine, cycle_id, code)

    @get("/cycles/{cycle_id:uuid}/box", sync_to_thread=True,
         summary="Public facts of the cycle's ballot box (key, seed commitment, batches)")
    def box_summary(self, cycle_id: FromPath[UUID], engine: EngineDep) -> dict[str, Any]:
        return VotingKit(engine).summary(service.get_cycle(engine, cycle_id).id)

    # -- residents and proposers -------------------------------------------------------------------
    @post("/cycles/{cycle_id:uuid}/credential", guards=[requires("budget.vote")], sync_to_thread=True,
          summary="Trade the voting code sent by text message for a ballot credential")
    def voter_credential(self, request: Request, cycle_id: FromPath[UUID], data: JSONBody[SignInVoter],
                         engine: EngineDep) -> dict[str, Any]:
        client = request.client.host if request.client else "unknown"
        return {"credential": service.sign_in_voter(engine, cycle_id, data.entry_id, data.code, client)}

    @post("/cycles/{cycle_id:uuid}/ballot", guards=[requires("budget.vote")], sync_to_thread=True,
          summary="Cast or replace a ballot with a credential; returns the receipt")
    def cast(self, cycle_id: FromPath[UUID], data: JSONBody[BallotIn], engine: EngineDep) -> dict[str, Any]:
        return service.cast_ballot(engine, cycle_id, credential=data.credential, choice=data.choice)

    @post("/cycles/{cycle_id:uuid}/proposals", guards=[requires("budget.propose")], sync_to_thread=True, summary="Submit a proposal")
    def propose(self, cycle_id: FromPath[UUID], data: JSONBody[ProposalIn], engine: EngineDep) -> dict[str, Any]:
        pid = service.submit_proposal(engine, cycle_id, title=data.title, description=data.description, dong=data.dong,
                                      category=data.category, proposer=data.proposer, proposer_role=data.proposer_role)
        return {"project_id": pid}

    # -- officials ---------------------------------------------------------------------------------
    @post("/cycles", guards=[requires("budget.manage")], sync_to_thread=True, summary="Open a budget cycle")
    def open_cycle(self, data: JSONBody[CycleIn], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
        cycle = service.open_cycle(engine, name=data.name, budget=data.budget, scope=data.scope,
                                   voting_opens=data.voting_opens, voting_closes=data.voting_closes,
                                   ballot_style=_dict(data.ballot_style), rule=_dict(data.rule),
                                   last_vote_counts=data.last_vote_counts, by=actor.id)
        return cycle_view(cycle)

    @post("/cycles/{cycle_id:uuid}/settings", guards=[requires("budget.manage")], sync_to_thread=True,
          summary="Change the ballot style, winner rule or vote replacement (before voting)")
    def change_settings(self, cycle_id: FromPath[UUID], data: JSONBody[SettingsIn],
                        engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
        cycle = service.configure(engine, cycle_id, ballot_style=_dict(data.ballot_style), rule=_dict(data.rule),
                                  last_vote_counts=data.last_vote_counts, by=actor.id)
        return cycle_view(cycle)

    @post("/cycles/{cycle_id:uuid}/proposals/{project_id:str}/screening", guards=[requires("budget.screen")], sync_to_thread=True,
          summary="Screen a proposal: feasibility, cost in won, reason")
    def screen(self, cycle_id: FromPath[UUID], project_id: FromPath[str], data: JSONBody[ScreeningIn],
               engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
        service.screen(engine, cycle_id, project_id, feasible=data.feasible, cost=data.cost, reason=data.reason,
                       by=actor.id)
        return {"project_id": project_id, "feasible": data.feasible, "cost": data.cost}

    @post("/cycles/{cycle_id:uuid}/proposals/{project_id:str}/withdrawal", guards=[requires("budget.manage")],
          sync_to_thread=True, status_code=200, summary="Withdraw a proposal before voting, with a reason")
    def withdraw(self, cycle_id: FromPath[UUID], project_id: FromPath[str], data: JSONBody[WithdrawalIn],
                 engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
        return cycle_view(service.withdraw_proposal(engine, cycle_id, project_id, reason=data.reason, by=actor.id))

    @post("/cycles/{cycle_id:uuid}/phase", guards=[requires("budget.manage")], sync_to_thread=True, summary="Advance to the next phase")
    def advance(self, cycle_id: FromPath[UUID], data: JSONBody[PhaseIn], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
        return cycle_view(service.advance(engine, cycle_id, data.to, by=actor.id))

    @post("/cycles/{cycle_id:uuid}/paper-ballots", guards=[requires("budget.paper_ballots")], sync_to_thread=True,
          summary="Enter a paper or booth ballot (marked as such)")
    def paper_ballot(self, cycle_id: FromPath[UUID], data: JSONBody[PaperBallotIn],
                     engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
        return service.enter_paper_ballot(engine, cycle_id, entry_id=data.entry_id, choice=data.choice, by=actor.id)

    @post("/cycles/{cycle_id:uuid}/roll", guards=[requires("budget.manage")], sync_to_thread=True,
          summary="Import residents into the voter roll (CSV: entry_id, contact, optional group)")
    def import_roll(self, cycle_id: FromPath[UUID], data: JSONBody[RollIn], engine: EngineDep) -> dict[str, Any]:
        return service.import_roll(engine, cycle_id, data.csv)

    @post("/cycles/{cycle_id:uuid}/codes", guards=[requires("budget.manage")], sync_to_thread=True,
          summary="Send voting codes by text message to residents on the roll who have none")
    def send_codes(self, cycle_id: FromPath[UUID], data: JSONBody[CodesIn], engine: EngineDep) -> dict[str, Any]:
        return {"sent": service.issue_codes(engine, cycle_id, data.entry_ids)}

    @post("/cycles/{cycle_id:uuid}/tally", guards=[requires("budget.tally")], sync_to_thread=True,
          summary="Compute the result of a closed cycle (embargoed until validated)")
    def tally(self, cycle_id: FromPath[UUID], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
        service.tally(engine, cycle_id, by=actor.id)
        return result_view(service.get_cycle(engine, cycle_id))

    @get("/cycles/{cycle_id:uuid}/result", guards=[requires("budget.view_embargoed")], sync_to_thread=True,
         summary="The computed result, embargoed or not (officials)")
    def embargoed_result(self, cycle_id: FromPath[UUID], engine: EngineDep) -> dict[str, Any]:
        return result_view(service.get_cycle(engine, cycle_id))

    @post("/cycles/{cycle_id:uuid}/overrides", guards=[requires("budget.override")], sync_to_thread=True,
          summary="Fund or unfund a project against the computed result, with a written reason")
    def override(self, cycle_id: FromPath[UUID], data: JSONBody[OverrideIn], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
        winners = service.override(engine, cycle_id, action=data.action, project_id=data.project_id, reason=data.reason,
                                   by=actor.id)
        return {"winners": winners}

    @post("/cycles/{cycle_id:uuid}/validation", guards=[requires("budget.validate")], sync_to_thread=True,
          summary="Validate the result: it is published")
    def validate(self, cycle_id: FromPath[UUID], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
        service.validate(engine, cycle_id, by=actor.id)
        return public_result(service.get_cycle(engine, cycle_id))
