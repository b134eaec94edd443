"""Hash chain of the audit trail: exact construction, tamper detection (edit, insert, delete,
reorder, truncation)."""

import copy
import hashlib
import json

import pytest
from chain_events import build_chain, link
from o2s_esign_lib import chain


def make_events(count=5, request=42):
    """A realistic chain of ``count`` events (linked)."""
    types = ["created", "sent", "otp_sent", "otp_verified", "consent_given", "signed", "sealed"]
    events = []
    for index in range(1, count + 1):
        events.append({
            "request": request,
            "sequence": index,
            "event_type": types[(index - 1) % len(types)],
            "date": f"2026-11-27T14:{index % 60:02d}:05.{index:06d}Z",
            "signer": 7 if index % 2 else None,
            "ip_address": "203.0.113.9" if index % 2 else None,
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
            "payload": {"note": "Signé à Besançon – « ok »", "n": index, "flags": [True, None]},
        })
    return build_chain(events)


def test_genesis_and_hashed_fields():
    assert chain.GENESIS_HASH == "0" * 64
    assert chain.HASHED_FIELDS == ("request", "sequence", "event_type", "date", "signer",
                                   "ip_address", "user_agent", "payload")


def test_canonical_json_exact_bytes():
    obj = {"b": 1, "a": ["é", None, True, {"z": "x", "y": -3}], "c": "<&>"}
    expected = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False).encode("utf-8")
    assert chain.canonical_json(obj) == expected
    assert chain.canonical_json(obj) == '{"a":["é",null,true,{"y":-3,"z":"x"}],"b":1,"c":"<&>"}'.encode()


@pytest.mark.parametrize("bad", [
    float("nan"), float("inf"), 1.5, (1, 2), {1: "x"}, b"bytes", {"x": {3.0}}, [object()],
])
def test_canonical_json_rejects(bad):
    with pytest.raises((TypeError, ValueError)):
        chain.canonical_json({"v": bad} if not isinstance(bad, dict) else bad)


def test_compute_hash_matches_the_formula():
    event = make_events(1)[0]
    body = {field: event[field] for field in chain.HASHED_FIELDS}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False).encode("utf-8")
    expected = hashlib.sha256(chain.GENESIS_HASH.encode("ascii") + canonical).hexdigest()
    assert chain.compute_hash(chain.GENESIS_HASH, event) == expected
    assert event["hash"] == expected
    assert event["previous_hash"] == chain.GENESIS_HASH


def test_non_hashed_fields_are_ignored():
    event = make_events(1)[0]
    decorated = dict(event, id=991, signer_name="Jeanne", hash="whatever")
    assert chain.compute_hash(chain.GENESIS_HASH, decorated) == event["hash"]


def test_missing_hashed_field_raises():
    event = make_events(1)[0]
    del event["user_agent"]
    with pytest.raises(KeyError):
        chain.compute_hash(chain.GENESIS_HASH, event)


@pytest.mark.parametrize("bad", ["", "0" * 63, "A" * 64, "g" * 64, None, "0" * 64 + "\n"])
def test_compute_hash_rejects_bad_previous(bad):
    with pytest.raises(ValueError):
        chain.compute_hash(bad, make_events(1)[0])


def test_intact_chain():
    events = make_events(6)
    report = chain.verify_chain(events)
    assert report == chain.ChainReport(True, events[-1]["hash"], 6, None, None)
    assert chain.verify_chain(events, expected_head=events[-1]["hash"]).ok


def test_empty_chain():
    report = chain.verify_chain([])
    assert not report.ok and report.reason == "empty" and report.count == 0
    assert report.head == chain.GENESIS_HASH


@pytest.mark.parametrize("field", chain.HASHED_FIELDS)
def test_edit_of_any_hashed_field_is_detected(field):
    events = make_events(5)
    tampered = copy.deepcopy(events)
    value = tampered[2][field]
    if field == "sequence":
        tampered[2][field] = 33
    elif isinstance(value, dict):
        tampered[2][field] = dict(value, note=value["note"] + " ")
    elif isinstance(value, int):
        tampered[2][field] = value + 1
    elif value is None:
        tampered[2][field] = ""
    else:
        tampered[2][field] = value[:-1] + chr(ord(value[-1]) ^ 1)
    report = chain.verify_chain(tampered)
    assert not report.ok
    assert report.first_broken == 3
    assert report.reason == ("sequence_gap" if field == "sequence" else "hash_mismatch")
    assert report.head == events[1]["hash"]


def test_edit_with_rehash_of_that_event_breaks_the_next_link():
    events = make_events(5)
    tampered = copy.deepcopy(events)
    tampered[1]["ip_address"] = "198.51.100.1"
    tampered[1]["hash"] = chain.compute_hash(tampered[1]["previous_hash"], tampered[1])
    report = chain.verify_chain(tampered)
    assert (report.ok, report.first_broken, report.reason) == (False, 3, "previous_hash_mismatch")


def test_deletion_is_detected():
    events = make_events(5)
    del events[2]
    report = chain.verify_chain(events)
    assert (report.ok, report.first_broken, report.reason) == (False, 3, "sequence_gap")


def test_deletion_with_renumbering_is_detected():
    events = make_events(5)
    del events[2]
    for position, event in enumerate(events, start=1):
        event["sequence"] = position
    report = chain.verify_chain(events)
    # event 3 (renumbered) was hashed as 4 and points to the deleted event
    assert (report.ok, report.first_broken) == (False, 3)
    assert report.reason in ("previous_hash_mismatch", "hash_mismatch")


def test_insertion_is_detected():
    events = make_events(4)
    forged = dict(events[1], event_type="otp_verified", sequence=3)
    forged = link(events[1]["hash"], forged)
    tampered = events[:2] + [forged] + events[2:]
    for position, event in enumerate(tampered, start=1):
        event["sequence"] = position
    report = chain.verify_chain(tampered)
    assert not report.ok and report.first_broken == 4


def test_reordering_is_detected():
    events = make_events(5)
    events[1], events[2] = events[2], events[1]
    report = chain.verify_chain(events)
    assert (report.ok, report.first_broken, report.reason) == (False, 2, "sequence_gap")


def test_truncation_needs_the_expected_head():
    events = make_events(6)
    head = events[-1]["hash"]
    truncated = events[:4]
    assert chain.verify_chain(truncated).ok  # a clean prefix alone looks fine...
    report = chain.verify_chain(truncated, expected_head=head)
    assert (report.ok, report.reason, report.first_broken) == (False, "head_mismatch", None)
    assert report.head == events[3]["hash"]


def test_extension_is_detected_by_expected_head():
    events = make_events(6)
    head = events[3]["hash"]
    report = chain.verify_chain(events, expected_head=head)
    assert not report.ok and report.reason == "head_mismatch"


@pytest.mark.parametrize("mutate", [
    lambda e: e.pop("hash"),
    lambda e: e.pop("payload"),
    lambda e: e.__setitem__("payload", {"x": 1.5}),
    lambda e: e.__setitem__("sequence", True),
    lambda e: e.__setitem__("sequence", "1"),
    lambda e: e.__setitem__("hash", e["hash"].upper()),
])
def test_malformed_first_event_never_raises(mutate):
    events = make_events(2)
    mutate(events[0])
    report = chain.verify_chain(events)
    assert not report.ok and report.first_broken == 1


def test_non_dict_event():
    report = chain.verify_chain(["nope"])
    assert not report.ok and report.reason == "sequence_gap"


def test_round_trip_through_json_keeps_the_chain():
    events = make_events(7)
    reloaded = json.loads(json.dumps(events, ensure_ascii=False, indent=2))
    assert chain.verify_chain(reloaded, expected_head=events[-1]["hash"]).ok
