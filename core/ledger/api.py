"""The ledger's HTTP face: public key, checkpoint, proofs and receipts under ``/ledger/``.

Public reads: an auditor needs no account to check the log.
"""

from __future__ import annotations

from typing import Any, Literal

from litestar import Response, get
from litestar.params import Parameter

from core.engine import Engine
from core.ledger.checkpoint import b64

TAGS = ["ledger"]


@get("/ledger/key", sync_to_thread=True, tags=TAGS, summary="The ledger's public key")
def ledger_key(engine: Engine) -> dict[str, str]:
    """The Ed25519 key that signs checkpoints, raw and as a signed-note verifier key."""
    return engine.ledger.verifier_key.to_json()


@get("/ledger/checkpoint", sync_to_thread=True, tags=TAGS, summary="The newest signed checkpoint")
def ledger_checkpoint(
    engine: Engine,
    format: Literal["json", "note"] = Parameter(  # noqa: A002 - the query parameter's name
        default="json", description="`note`: the C2SP signed note as text/plain"),
) -> Response[Any]:
    """A checkpoint covering every event so far (signed now if new events are not yet covered)."""
    ledger = engine.ledger
    signed = ledger.tick() or ledger.latest_checkpoint() or ledger.checkpoint()
    if format == "note":
        return Response(signed.note, media_type="text/plain; charset=utf-8")
    return Response(signed.to_json())


@get("/ledger/proof/inclusion", sync_to_thread=True, tags=TAGS, summary="RFC 9162 inclusion proof")
def inclusion_proof(
    engine: Engine,
    index: int = Parameter(ge=0, description="0-based leaf index"),
    size: int = Parameter(ge=1, description="tree size the proof is for"),
) -> dict[str, Any]:
    ledger = engine.ledger
    proof = ledger.inclusion_proof(index, size)
    leaf = ledger.leaf(index)
    return {
        "index": index,
        "size": size,
        "position": leaf.position,
        "leaf_hash": b64(leaf.leaf_hash),
        "root_hash": b64(ledger.root(size)),
        "proof": [b64(p) for p in proof],
    }


@get("/ledger/proof/consistency", sync_to_thread=True, tags=TAGS, summary="RFC 9162 consistency proof")
def consistency_proof(
    engine: Engine,
    first: int = Parameter(query="from", ge=0, description="the older tree size"),
    second: int = Parameter(query="to", ge=0, description="the newer tree size"),
) -> dict[str, Any]:
    ledger = engine.ledger
    proof = ledger.consistency_proof(first, second)
    return {
        "from": first,
        "to": second,
        "from_root": b64(ledger.root(first)),
        "to_root": b64(ledger.root(second)),
        "proof": [b64(p) for p in proof],
    }


@get("/ledger/receipt/{position:int}", sync_to_thread=True, tags=TAGS, summary="Receipt for one event")
def receipt(engine: Engine, position: int) -> dict[str, Any]:
    """The event's public record, leaf hash, inclusion proof and a signed checkpoint holding it."""
    return engine.ledger.receipt(position)


LEDGER_ROUTES: list[Any] = [ledger_key, ledger_checkpoint, inclusion_proof, consistency_proof, receipt]
