"""The ledger's HTTP face: public key, checkpoint, proofs and receipts under ``/ledger/``.

Public reads: an auditor needs no account to check the log.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Response, Router, get
from litestar.params import FromPath, QueryParameter

from core.ledger.checkpoint import b64
from core.web_deps import EngineDep


@get("/key", sync_to_thread=True, summary="The ledger's public key")
def ledger_key(engine: EngineDep) -> dict[str, str]:
    """The Ed25519 key that signs checkpoints, raw and as a signed-note verifier key."""
    return engine.ledger.verifier_key.to_json()


@get("/checkpoint", sync_to_thread=True, summary="The newest signed checkpoint")
def ledger_checkpoint(
    engine: EngineDep,
    format: Annotated[Literal["json", "note"], QueryParameter(  # noqa: A002 - the query parameter's name
        description="`note`: the C2SP signed note as text/plain")] = "json",
) -> Response[Any]:
    """A checkpoint covering every event so far (signed now if new events are not yet covered)."""
    ledger = engine.ledger
    signed = ledger.tick() or ledger.latest_checkpoint() or ledger.checkpoint()
    if format == "note":
        return Response(signed.note, media_type="text/plain")
    return Response(signed.to_json())


@get("/proof/inclusion", sync_to_thread=True, summary="RFC 9162 inclusion proof")
def inclusion_proof(
    engine: EngineDep,
    index: Annotated[int, QueryParameter(ge=0, description="0-based leaf index")],
    size: Annotated[int, QueryParameter(ge=1, description="tree size the proof is for")],
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


@get("/proof/consistency", sync_to_thread=True, summary="RFC 9162 consistency proof")
def consistency_proof(
    engine: EngineDep,
    first: Annotated[int, QueryParameter(name="from", ge=0, description="the older tree size")],
    second: Annotated[int, QueryParameter(name="to", ge=0, description="the newer tree size")],
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


@get("/receipt/{position:int}", sync_to_thread=True, summary="Receipt for one event")
def receipt(engine: EngineDep, position: FromPath[int]) -> dict[str, Any]:
    """The event's public record, leaf hash, inclusion proof and a signed checkpoint holding it."""
    return engine.ledger.receipt(position)


ledger_router = Router(path="/ledger", route_handlers=[ledger_key, ledger_checkpoint, inclusion_proof,
                                                      consistency_proof, receipt], tags=["ledger"])
