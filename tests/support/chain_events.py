"""Chained audit events for the tests and the benchmark: a list of events linked the way
``o2s.esign.event`` links each new one (``lib.chain.compute_hash``).

Plain Python; the signing core must already be importable as ``o2s_esign_lib`` (the plain
pytest conftest, ``bench/benchlib.py`` and the e2e harness load it so).
"""

from o2s_esign_lib.chain import GENESIS_HASH, compute_hash


def link(previous_hash: str, event: dict) -> dict:
    """A copy of ``event`` with ``previous_hash`` and ``hash`` filled in."""
    linked = dict(event)
    linked["previous_hash"] = previous_hash
    linked["hash"] = compute_hash(previous_hash, event)
    return linked


def build_chain(events: list[dict], previous_hash: str = GENESIS_HASH) -> list[dict]:
    """Link ``events`` in order (copies); ``sequence`` must already be set by the caller."""
    chained = []
    for event in events:
        linked = link(previous_hash, event)
        chained.append(linked)
        previous_hash = linked["hash"]
    return chained
