"""Pabulib ``.pb`` files (https://pabulib.org/format): META, PROJECTS and VOTES sections,
``;``-separated, for every vote type pabutools reads: approval, choose-1, cumulative, scoring and
ordinal. Pure: bytes or text in, values out.

Amounts (budget, costs, cost limits) are exact ``decimal.Decimal`` as the file writes them
(``969245.38``, ``1000,0``), never floats; ``minor_units`` turns them into whole numbers of the
file's smallest written unit (grosze for ``969245.38`` PLN) for the winner rules, which count
in whole numbers. The file's currency and every META field are kept as read."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from decimal import Context, Decimal, Inexact, InvalidOperation, localcontext

import attrs

from core import InvalidInput

VOTE_TYPES = ("approval", "choose-1", "cumulative", "scoring", "ordinal")
# vote types whose VOTES rows carry a ``points`` column
POINTS_TYPES = ("cumulative", "scoring")
# optional META fields read as amounts of money, as whole counts, and as numbers of points
AMOUNT_FIELDS = ("max_sum_cost", "min_sum_cost", "min_project_cost", "max_project_cost")
COUNT_FIELDS = ("min_length", "max_length", "num_projects", "num_votes")
POINT_FIELDS = ("min_points", "max_points", "min_sum_points", "max_sum_points", "default_score",
                "min_project_score_threshold")
# amounts beyond this many digits are no budget: refused before any arithmetic on them
MAX_DIGITS = 24
# arithmetic on amounts of at most MAX_DIGITS digits each fits in this precision; Inexact is
# trapped so that a rounding could only ever show as an error, never as a wrong amount
EXACT = Context(prec=200, traps=[Inexact, InvalidOperation])


@attrs.frozen
class PbProject:
    project_id: str
    cost: Decimal | int
    fields: Mapping[str, str] = attrs.field(factory=dict)  # other columns (name, category, ...)


@attrs.frozen
class PbVote:
    """One voter's row. ``points`` is project id -> points in the order the file lists them: 1 for
    approval and choose-1, the points given for cumulative and scoring, and for ordinal the Borda
    score pabutools gives (ballot length - position - 1, so the last ranked gets 0)."""

    voter_id: str
    points: Mapping[str, int]
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
    def budget(self) -> Decimal:
        return amount("budget", self.meta.get("budget", ""))

    @property
    def currency(self) -> str | None:
        return self.meta.get("currency") or None

    @property
    def costs(self) -> dict[str, Decimal]:
        return {p.project_id: Decimal(p.cost) for p in self.projects}

    def meta_amount(self, key: str) -> Decimal | None:
        """An optional amount of META (``max_sum_cost``...), or None when the file has none."""
        text = self.meta.get(key, "")
        return amount(key, text) if text and text.lower() != "none" else None

    def meta_count(self, key: str) -> int | None:
        text = self.meta.get(key, "")
        return whole_amount(key, text) if text and text.lower() != "none" else None

    def ballots(self) -> list[dict[str, int]]:
        return [dict(v.points) for v in self.votes]

    def minor_units(self) -> MinorUnits:
        """Every amount of the file as a whole number of its smallest written unit."""
        extra = {k: a for k in AMOUNT_FIELDS if (a := self.meta_amount(k)) is not None}
        costs = self.costs
        amounts = [self.budget, *costs.values(), *extra.values()]
        with localcontext(EXACT):
            # the fewest decimal places that write every amount exactly (400000.0 needs none)
            decimals = max(0, *(-a.normalize().as_tuple().exponent for a in amounts))
            scale = Decimal(10) ** decimals
            return MinorUnits(decimals, int(self.budget * scale), {p: int(c * scale) for p, c in costs.items()},
                              {k: int(a * scale) for k, a in extra.items()})


@attrs.frozen
class MinorUnits:
    """Amounts in whole units of 10**-decimals of the file's currency (decimals 2: grosze/cents)."""

    decimals: int
    budget: int
    costs: Mapping[str, int]
    meta: Mapping[str, int]  # the META amounts present (max_sum_cost, ...)

    def to_amount(self, minor: int) -> Decimal:
        return Decimal(f"{minor}E-{self.decimals}")  # built from text: exact at any size


def amount(what: str, text: str) -> Decimal:
    """A non-negative amount exactly as a file writes it (``1000``, ``969245.38``, ``1000,0``)."""
    cleaned = text.strip().replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidInput(f"Pabulib: {what} {text!r} is not a number.") from None
    if not value.is_finite():
        raise InvalidInput(f"Pabulib: {what} {text!r} is not a number.")
    if value < 0:
        raise InvalidInput(f"Pabulib: {what} {text!r} must not be negative.")
    if len(value.as_tuple().digits) > MAX_DIGITS or abs(value.adjusted()) >= MAX_DIGITS:
        raise InvalidInput(f"Pabulib: {what} {text!r} has more than {MAX_DIGITS} digits.")
    return value


def whole_amount(what: str, text: str) -> int:
    """A whole, non-negative amount as a file writes it (``1000``, ``1000.0``, ``1000,0``)."""
    value = amount(what, text)
    if not is_whole(value):
        raise InvalidInput(f"Pabulib: {what} {text!r} must be a whole, non-negative amount.")
    return int(value)


def is_whole(value: Decimal) -> bool:
    with localcontext(EXACT):
        return value % 1 == 0


def format_amount(value: Decimal | int) -> str:
    """An amount as a file writes it: ``65000``, ``106165.64`` (no exponent, no trailing zeros)."""
    text = format(Decimal(value), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def decode(data: bytes) -> str:
    """The text of a ``.pb`` file, which Pabulib writes in UTF-8 (a byte-order mark is allowed);
    anything else is refused with what it looks like instead."""
    if not data.strip():
        raise InvalidInput("Pabulib: the file is empty.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(data):
        raise InvalidInput("Pabulib: the file is UTF-16; Pabulib files are UTF-8. Save it again as UTF-8.")
    if b"\x00" in data:
        raise InvalidInput("Pabulib: the file is binary (it holds NUL bytes), not a Pabulib text file.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InvalidInput(f"Pabulib: the file is not UTF-8 (byte 0x{data[exc.start]:02x} on line {line}); "
                           "Pabulib files are UTF-8. A file saved as CP949/EUC-KR or another code page "
                           "must be converted to UTF-8 first.") from None


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 without a byte-order mark: Latin text puts a NUL in every other byte."""
    head = data[:4000]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    return max(even, odd) > len(head) // 4 and min(even, odd) == 0


def read(data: bytes) -> PbElection:
    """Parse the bytes of a ``.pb`` file (see ``decode`` and ``parse``)."""
    return parse(decode(data))


def _points(line: int, voter: str, text: str) -> int:
    value = amount(f"line {line}: points of voter {voter}", text)
    if not is_whole(value):
        raise InvalidInput(f"Pabulib line {line}: points of voter {voter} must be whole numbers, not {text!r}.")
    return int(value)


def _vote_points(vote_type: str, line: int, voter: str, chosen: list[str], values: dict[str, str]) -> dict[str, int]:
    if vote_type in ("approval", "choose-1"):
        # an approval is a set: a project named twice is approved once (as pabutools reads it;
        # real Warszawa and Seattle files have such rows)
        return dict.fromkeys(chosen, 1)
    if len(set(chosen)) != len(chosen):
        raise InvalidInput(f"Pabulib line {line}: voter {voter} names a project twice.")
    if vote_type in POINTS_TYPES:
        raw = [p for p in values.pop("points", "").split(",") if p.strip() and p.strip().lower() != "none"]
        if len(raw) != len(chosen):
            raise InvalidInput(f"Pabulib line {line}: {len(chosen)} projects but {len(raw)} points.")
        return {p: _points(line, voter, w) for p, w in zip(chosen, raw)}
    return {p: len(chosen) - i - 1 for i, p in enumerate(chosen)}


def parse(text: str) -> PbElection:
    """Read a ``.pb`` file; refuse anything malformed, truncated or inconsistent with a message
    naming the line or the field."""
    if not text.strip():
        raise InvalidInput("Pabulib: the file is empty.")
    meta: dict[str, str] = {}
    projects: list[PbProject] = []
    votes: list[PbVote] = []
    sections: list[str] = []
    section = ""
    header: list[str] = []
    expect_header = False
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";")
    line = 0
    try:
        for row in rows:
            line = rows.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            head = row[0].strip().lower()
            if head in ("meta", "projects", "votes") and all(not c.strip() for c in row[1:]):
                if head in sections:
                    raise InvalidInput(f"Pabulib line {line}: a second {head.upper()} section.")
                section, expect_header = head, True
                sections.append(head)
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
                raise InvalidInput(f"Pabulib line {line}: {len(row)} fields, the header has {len(header)}"
                                   " (is the file cut short?).")
            values = {k: v.strip() for k, v in zip(header, row)}
            if section == "projects":
                _read_project(line, values, projects)
            else:
                _read_vote(line, values, meta, votes)
    except csv.Error as exc:
        raise InvalidInput(f"Pabulib line {line + 1}: unreadable row ({exc}); is the file cut short?") from None
    return _checked(meta, projects, votes, sections)


def _read_project(line: int, values: dict[str, str], projects: list[PbProject]) -> None:
    if "project_id" not in values or "cost" not in values:
        raise InvalidInput("Pabulib: PROJECTS needs project_id and cost columns.")
    pid = values.pop("project_id")
    if not pid:
        raise InvalidInput(f"Pabulib line {line}: a project without an id.")
    cost = amount(f"line {line}: cost of project {pid}", values.pop("cost"))
    projects.append(PbProject(pid, cost, values))


def _read_vote(line: int, values: dict[str, str], meta: Mapping[str, str], votes: list[PbVote]) -> None:
    if "voter_id" not in values or "vote" not in values:
        raise InvalidInput("Pabulib: VOTES needs voter_id and vote columns.")
    vote_type = meta.get("vote_type", "approval")
    if vote_type not in VOTE_TYPES:
        raise InvalidInput(f"Pabulib: vote_type {vote_type!r} is not supported; use one of {', '.join(VOTE_TYPES)}.")
    vid = values.pop("voter_id")
    chosen = [p.strip() for p in values.pop("vote").split(",") if p.strip() and p.strip().lower() != "none"]
    points = _vote_points(vote_type, line, vid, chosen, values)
    votes.append(PbVote(vid, points, {k: v for k, v in values.items() if v.lower() != "none"}))


def _checked(meta: dict[str, str], projects: list[PbProject], votes: list[PbVote], sections: list[str]) -> PbElection:
    vote_type = meta.get("vote_type", "approval")
    if vote_type not in VOTE_TYPES:
        raise InvalidInput(f"Pabulib: vote_type {vote_type!r} is not supported; use one of {', '.join(VOTE_TYPES)}.")
    if "budget" not in meta:
        raise InvalidInput("Pabulib: META needs a budget.")
    missing = [s.upper() for s in ("meta", "projects", "votes") if s not in sections]
    if missing:
        raise InvalidInput(f"Pabulib: no {' or '.join(missing)} section (is the file cut short?).")
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
    for key in AMOUNT_FIELDS:
        election.meta_amount(key)
    for key in COUNT_FIELDS:
        election.meta_count(key)
    for key in POINT_FIELDS:
        if meta.get(key) and meta[key].lower() != "none":
            amount(key, meta[key])
    # the counts META announces are how a file cut short at a row boundary shows
    for key, found, what in (("num_projects", len(projects), "projects"), ("num_votes", len(votes), "votes")):
        announced = election.meta_count(key)
        if announced is not None and announced != found:
            raise InvalidInput(f"Pabulib: META says {key} {announced} but the file has {found} {what} "
                               "(is it cut short?).")
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
        w.writerow([p.project_id, format_amount(p.cost), *(p.fields.get(k, "None") for k in extra_p)])
    with_points = meta["vote_type"] in POINTS_TYPES
    extra_v = sorted({k for v in election.votes for k in v.fields})
    w.writerow(["VOTES"])
    w.writerow(["voter_id", "vote", *(["points"] if with_points else []), *extra_v])
    for v in election.votes:
        chosen = list(v.points)  # in the file's order: for ordinal files, the ranking
        cells = [v.voter_id, ",".join(chosen)]
        if with_points:
            cells.append(",".join(str(v.points[p]) for p in chosen))
        w.writerow([*cells, *(v.fields.get(k, "None") for k in extra_v)])
    return out.getvalue()
