"""Signed result certificates: one per contest, as JSON and as a printable HTML page.

The document holds the recorded result (turnout, counts, the rule applied, the reason), where the
log recorded it, the ledger checkpoint and inclusion proof it rests on, and how to verify it. It
is signed over its RFC 8785 canonical JSON:

- with the instance's ledger key when the ledger is present: the signature is a C2SP signed note
  whose text is the canonical document plus a newline, checkable with the key at ``/ledger/key``;
- otherwise with an Ed25519 key derived from the instance secrets
  (``engine.secrets.key("apartment_vote/certificate")``), published at
  ``/api/apartment/certificate-key``.

A certificate is derived from the log: it can be produced again at any time and is not an event.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import html
from typing import Any
from uuid import UUID

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from core import NoteError, NotFound, RuleViolation, VerifierKey
from plugins.apartment_vote import rules, service, views

FORMAT = "civic/apartment_vote/result-certificate/v1"
KEY_PURPOSE = "apartment_vote/certificate"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def instance_key(engine: Any) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(engine.secrets.key(KEY_PURPOSE))


def public_key(engine: Any) -> dict[str, str]:
    """The key that verifies this instance's certificates."""
    ledger = getattr(engine, "ledger", None)
    if ledger is not None:
        return {"format": "c2sp-signed-note", **ledger.verifier_key.to_json()}
    raw = instance_key(engine).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"format": "ed25519", "algorithm": "Ed25519", "public_key": _b64(raw)}


def _ledger_part(engine: Any, position: int) -> dict[str, Any] | None:
    ledger = getattr(engine, "ledger", None)
    if ledger is None:
        return None
    receipt = ledger.receipt(position)
    return {"note": "the result event is leaf `index` of the signed checkpoint; `proof` is its RFC 9162 "
                    "inclusion proof", **receipt}


def document(engine: Any, election_id: str, contest_id: str) -> dict[str, Any]:
    election = service.get_election(engine, election_id)
    if contest_id not in election.contests:
        raise NotFound(f"No contest {contest_id!r} in this election.")
    if contest_id not in election.results:
        raise RuleViolation("The result is certified once voting has closed and the result is recorded.")
    # a copy: the document must not share the read model's live state
    recorded = copy.deepcopy(views.elections(engine)[str(election.id)]["results"][contest_id])
    position, result = recorded["position"], recorded["result"]
    ballots_up_to, lottery = recorded["ballots_up_to"], recorded["lottery"]
    return {
        "format": FORMAT,
        "election": {"id": str(election.id), "title": election.title, "complex": election.complex_code,
                     "opens_at": election.opens_at, "closes_at": election.closes_at},
        "contest": {"contest_id": contest_id, "kind": result["kind"], "title": result["title"],
                    "building": result["building"]},
        "result": result,
        "record": {"position": position, "ballots_up_to": ballots_up_to,
                   "result_sha256": hashlib.sha256(rfc8785.dumps(result)).hexdigest()},
        "lottery": lottery,
        "ledger": _ledger_part(engine, position),
        "verify": [
            "Check the signature over the RFC 8785 canonical JSON of `certificate` with the instance key "
            "(/ledger/key, or /api/apartment/certificate-key when there is no ledger): for a signed note, the "
            "note is that JSON, a newline, a blank line and `signature.signature`.",
            "Check that the ledger checkpoint is signed by the same key and that the inclusion proof "
            "puts the event at `record.position` in it (civic audit receipt).",
            "Export the log (civic audit export) and run civic audit verify: it re-tallies every "
            "apartment result from the opened ballot box with the same rules and reports any difference.",
            "With your tracking code, check that your ballot is among those counted "
            "(/api/apartment/elections/{id}/receipts/{tracking_code}).",
        ],
    }


def sign(engine: Any, doc: dict[str, Any]) -> dict[str, Any]:
    body = rfc8785.dumps(doc)
    ledger = getattr(engine, "ledger", None)
    if ledger is not None:
        text = body.decode() + "\n"
        note = ledger.key.sign(text)
        # the note is the text, a blank line and the signature lines: keep the lines only
        signature = {"format": "c2sp-signed-note", "verifier_key": str(ledger.verifier_key),
                     "signature": note[len(text) + 1:]}
    else:
        key = instance_key(engine)
        raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        signature = {"format": "ed25519", "public_key": _b64(raw), "value": _b64(key.sign(body))}
    return {"certificate": doc, "signature": signature}


def certificate(engine: Any, election_id: str, contest_id: str) -> dict[str, Any]:
    return sign(engine, document(engine, election_id, contest_id))


def candidate_names(engine: Any, election_id: UUID | str) -> dict[str, str]:
    """Candidate id -> name across the election's contests, for the printable page."""
    election = service.get_election(engine, election_id)
    if not election.contests:
        raise NotFound("The election has no contests.")
    return {k: v["name"] for c in election.contests.values() for k, v in c["candidates"].items()}


def verify(signed: dict[str, Any], trusted_key: str | None = None) -> bool:
    """True when the signature holds over the certificate (and is by ``trusted_key`` if given:
    the base64 Ed25519 key, or the ledger's verifier key text)."""
    body = rfc8785.dumps(signed["certificate"])
    sig = signed["signature"]
    if sig["format"] == "ed25519":
        if trusted_key is not None and trusted_key != sig["public_key"]:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(base64.b64decode(sig["public_key"])).verify(
                base64.b64decode(sig["value"]), body)
        except (InvalidSignature, ValueError):
            return False
        return True
    if sig["format"] == "c2sp-signed-note":
        text = body.decode() + "\n"
        try:
            key = VerifierKey.parse(trusted_key or sig["verifier_key"])
            return key.verify(f"{text}\n{sig['signature']}") == text
        except (NoteError, KeyError, TypeError):
            return False
    return False


# -- the printable page ----------------------------------------------------------------------

def _rows(pairs: list[tuple[str, Any]]) -> str:
    return "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in pairs)


def render_html(signed: dict[str, Any], names: dict[str, str] | None = None) -> str:
    doc = signed["certificate"]
    result = doc["result"]
    names = names or {}
    rule = result["rule"]
    counts = "".join(f"<tr><td>{html.escape(names.get(o, o))}</td><td class=n>{v}</td></tr>"
                     for o, v in result["counts"].items())
    buildings = "".join(f"<tr><td>{html.escape(b)}</td><td class=n>{r['voted']}</td><td class=n>{r['households']}</td>"
                        f"<td class=n>{rules.percent(r['voted'], r['households'])}</td></tr>"
                        for b, r in result["by_building"].items())
    elected = ", ".join(names.get(c, c) for c in result["elected"]) or "-"
    ledger = doc.get("ledger")
    if ledger:
        checkpoint = ledger.get("checkpoint") or {}
        ledger_rows = _rows([("ledger checkpoint", f"{checkpoint.get('origin')} · {checkpoint.get('size')} leaves · "
                                                   f"root {checkpoint.get('root_hash')}"),
                             ("result event leaf", ledger.get("leaf_index")),
                             ("ledger key", ledger.get("verifier_key"))])
    else:
        ledger_rows = ("<tr><td colspan=2>No ledger on this instance: the signature is by the instance "
                       "certificate key.</td></tr>")
    signature = signed["signature"]
    sig_text = signature.get("signature") or signature.get("value")
    steps = "".join(f"<li>{html.escape(s)}</li>" for s in doc["verify"])
    title = f"{doc['election']['title']} — {result['title']}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;color:#111}}
table{{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}}
th,td{{border:1px solid #999;padding:.3rem .5rem;text-align:left;vertical-align:top}}
td.n{{text-align:right}} pre{{white-space:pre-wrap;word-break:break-all;font-size:.75rem}}
.status{{font-size:1.3rem;font-weight:bold}} @media print{{a{{color:#000}}}}
</style></head><body>
<h1>Result certificate</h1>
<p>{html.escape(doc['election']['complex'])} · {html.escape(doc['election']['title'])}</p>
<h2>{html.escape(result['title'])}</h2>
<p class=status>{html.escape(result['status'].replace('_', ' '))}: {html.escape(elected)}</p>
<p>{html.escape(result['reason'])}</p>
<table>{_rows([("households on the roll", result['households']), ("households that voted", result['voted']),
              ("turnout", result['turnout']), ("quorum met", "yes" if result['quorum_met'] else "no"),
              ("blank ballots", result['blank']),
              ("turnout quorum", f"{'more than' if rule['turnout_strict'] else 'at least'} "
                                 f"{rule['turnout_num']}/{rule['turnout_den']}"),
              ("approval", f"more than {rule['approval_num']}/{rule['approval_den']} of {rule['approval_basis']}"),
              ("seats", rule['seats']), ("rule", rule['source']),
              ("voting", f"{doc['election']['opens_at']} – {doc['election']['closes_at']}")])}</table>
<h3>Votes</h3><table><tr><th>option</th><th>votes</th></tr>{counts}</table>
<h3>Turnout by building</h3><table><tr><th>building</th><th>voted</th><th>households</th><th>turnout</th></tr>{buildings}</table>
<h3>Record</h3><table>{_rows([("log position", doc['record']['position']),
                               ("ballots counted up to position", doc['record']['ballots_up_to']),
                               ("result SHA-256", doc['record']['result_sha256'])])}{ledger_rows}</table>
<h3>How to verify</h3><ol>{steps}</ol>
<h3>Signature ({html.escape(signature['format'])})</h3><pre>{html.escape(str(sig_text))}</pre>
</body></html>
"""
