"""Pabulib ``.pb`` files (https://pabulib.org/format): META, PROJECTS and VOTES sections,
``;``-separated, for approval and cumulative elections. Pure text in, values out."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation

import attrs

from core import InvalidInput

VOTE_TYPES = ("approval", "cumulative")


@attrs.frozen
class PbProject:
    project_id: str
    cost: int
    fields: Mapping[str, str] = attrs.field(factory=dict)  # other columns (name, category, ...)


@attrs.frozen
class PbVote:
    voter_id: str
    points: Mapping[str, int]  # project id -> points (1 for approval)
    fields: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen
class PbElection:
    meta: Mapping[str, str]
    projects: Sequence[PbProject]
    votes: Sequence[PbVote]

    @property
    def vote_type(self) -> str:
        return self.meta.get("vote_type", "approval")

    @property
    def budget(self) -> int:
        return whole_amount("budget", self.meta.get("budget", ""))

    @property
    def costs(self) -> dict[str, int]:
        return {p.project_id: p.cost for p in self.projects}

    def ballots(self) -> list[dict[str, int]]:
        return [dict(v.points) for v in self.votes]


def whole_amount(what: str, text: str) -> int:
    """A whole, non-negative amount as a file writes it (``1000``, ``1000.0``, ``1000,0``)."""
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise InvalidInput(f"Pabulib: {what} {text!r} is not a number.") from None
    if value != value.to_integral_value() or value < 0:
        raise InvalidInput(f"Pabulib: {what} {text!r} must be a whole, non-negative amount.")
    return int(value)


def parse(text: str) -> PbElection:
    """Read a ``.pb`` file; refuse anything malformed with a message naming the line."""
    meta: dict[str, str] = {}
    projects: list[PbProject] = []
    votes: list[PbVote] = []
    section = ""
    header: list[str] = []
    expect_header = False
    rows = csv.reader(io.StringIO(text), delimiter=";")
    for row in rows:
        line = rows.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        head = row[0].strip().lower()
        if head in ("meta", "projects", "votes") and len(row) == 1:
            section, expect_header = head, True
            continue
        if expect_header:
            header = [h.strip() for h in row]
            expect_header = False
            continue
        if not section:
            raise InvalidInput(f"Pabulib line {line}: data before a META, PROJECTS or VOTES section.")
        if section == "meta":
            if len(row) < 2:
                raise InvalidInput(f"Pabulib line {line}: META rows are key;value.")
            meta[row[0].strip()] = row[1].strip()
            continue
        if len(row) != len(header):
            raise InvalidInput(f"Pabulib line {line}: {len(row)} fields, the header has {len(header)}.")
        values = {k: v.strip() for k, v in zip(header, row)}
        if section == "projects":
            if "project_id" not in values or "cost" not in values:
                raise InvalidInput("Pabulib: PROJECTS needs project_id and cost columns.")
            pid = values.pop("project_id")
            cost = whole_amount(f"line {line}: cost of project {pid}", values.pop("cost"))
            projects.append(PbProject(pid, cost, values))
        else:
            if "voter_id" not in values or "vote" not in values:
                raise InvalidInput("Pabulib: VOTES needs voter_id and vote columns.")
            vid = values.pop("voter_id")
            chosen = [p.strip() for p in values.pop("vote").split(",") if p.strip() and p.strip().lower() != "none"]
            vote_type = meta.get("vote_type", "approval")
            if vote_type == "cumulative":
                raw_points = [p for p in values.pop("points", "").split(",") if p.strip()]
                if len(raw_points) != len(chosen):
                    raise InvalidInput(f"Pabulib line {line}: {len(chosen)} projects but {len(raw_points)} points.")
                points = {p: whole_amount(f"line {line}: points", w) for p, w in zip(chosen, raw_points)}
            else:
                points = {p: 1 for p in chosen}
            votes.append(PbVote(vid, points, {k: v for k, v in values.items() if v.lower() != "none"}))
    vote_type = meta.get("vote_type", "approval")
    if vote_type not in VOTE_TYPES:
        raise InvalidInput(f"Pabulib: vote_type {vote_type!r} is not supported; use {' or '.join(VOTE_TYPES)}.")
    if "budget" not in meta:
        raise InvalidInput("Pabulib: META needs a budget.")
    ids = [p.project_id for p in projects]
    if len(set(ids)) != len(ids):
        raise InvalidInput("Pabulib: a project id appears twice.")
    known = set(ids)
    for v in votes:
        unknown = sorted(set(v.points) - known)
        if unknown:
            raise InvalidInput(f"Pabulib: voter {v.voter_id} votes for unknown project(s) {', '.join(unknown)}.")
    election = PbElection(meta, projects, votes)
    election.budget  # noqa: B018 - validates the budget now
    return election


def render(election: PbElection) -> str:
    """Write a ``.pb`` file (values holding ``;`` are quoted, as csv readers expect).
    ``num_projects`` and ``num_votes`` are always taken from the election itself."""
    meta = dict(election.meta)
    meta["num_projects"] = str(len(election.projects))
    meta["num_votes"] = str(len(election.votes))
    meta.setdefault("vote_type", "approval")
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\n")
    w.writerow(["META"])
    w.writerow(["key", "value"])
    w.writerows([k, v] for k, v in meta.items())
    extra_p = sorted({k for p in election.projects for k in p.fields})
    w.writerow(["PROJECTS"])
    w.writerow(["project_id", "cost", *extra_p])
    for p in election.projects:
        w.writerow([p.project_id, p.cost, *(p.fields.get(k, "None") for k in extra_p)])
    cumulative = meta["vote_type"] == "cumulative"
    extra_v = sorted({k for v in election.votes for k in v.fields})
    w.writerow(["VOTES"])
    w.writerow(["voter_id", "vote", *(["points"] if cumulative else []), *extra_v])
    for v in election.votes:
        chosen = list(v.points)
        cells = [v.voter_id, ",".join(chosen)]
        if cumulative:
            cells.append(",".join(str(v.points[p]) for p in chosen))
        w.writerow([*cells, *(v.fields.get(k, "None") for k in extra_v)])
    return out.getvalue()
