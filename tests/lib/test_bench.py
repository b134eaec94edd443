"""The benchmark code (bench/) runs and judges its goals: no timing is asserted here (the
figures come from `make bench`, on a quiet machine)."""

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import benchlib  # noqa: E402
import bench_signing  # noqa: E402
import run as bench_run  # noqa: E402


def test_interleave_rotates_the_order_and_drops_the_warmup():
    calls = []
    times = benchlib.interleave({name: (lambda n=name: calls.append(n)) for name in "ABC"},
                                runs=4, warmup=2)
    assert {name: len(values) for name, values in times.items()} == {"A": 4, "B": 4, "C": 4}
    orders = ["".join(calls[i:i + 3]) for i in range(0, len(calls), 3)]
    assert orders == ["ABC", "CBA", "BCA", "ACB", "CAB", "BAC"]
    # every case runs first and last at least once
    assert {o[0] for o in orders} == set("ABC") and {o[-1] for o in orders} == set("ABC")


def test_summary_statistics():
    stats = benchlib.summary([5, 1, 4, 2, 3])
    assert (stats["n"], stats["median"], stats["min"], stats["max"]) == (5, 3, 1, 5)
    assert stats["p95"] == 4.8  # linear interpolation between 4 and 5
    assert benchlib.ratio(3, 0) is None and benchlib.ratio(13, 10) == 1.3


def test_signing_bench_quick_run_signs_for_real():
    result = bench_signing.run(runs=1, warmup=0, sizes=("p1",))
    data = result["sizes"]["p1"]
    # the three cases produced PAdES B-T signatures that validate against the company CA
    for name in ("module", "bare", "bare_tuned"):
        check = data["checks"][name]
        assert check["ok"], (name, check)
        assert check["level"] == "b_t"
        assert data["ms"][name]["n"] == 1
    assert data["ratio_vs_bare"] > 0


def _results(ratio, memory_growth=0.5):
    return {"parts": {
        "signing": {"goal_ratio": 1.3, "sizes": {"p1": {
            "ratio_vs_bare": ratio, "checks": {"module": {"ok": True}, "bare": {"ok": True}}}}},
        "evidence": {"memory": {"peak_growth_100p_to_10mb_mib": memory_growth,
                                "goal_peak_growth_mib": 2.5}},
    }}


def test_goals_pass_and_fail():
    goals = {g["name"]: g["pass"] for g in bench_run.evaluate(_results(1.29))}
    assert all(goals.values()) and len(goals) == 3
    failed = [g["name"] for g in bench_run.evaluate(_results(1.31, memory_growth=3.0))
              if not g["pass"]]
    assert failed == ["signing p1: module / bare pyHanko (medians)",
                      "evidence ZIP: peak memory growth, 100 pages -> 10 MB document"]


def _issue19_results(*, peer, load_ok=True, p95_ratio=2.5, last=1.1, queries=1.0):
    return {"errors": {}, "parts": {
        "http": {"steps": {"sign": {"client_ms": {"median": 100.0}},
                           "sign_last": {"client_ms": {"median": 100.0 * last}}},
                 "queries_ratio_10_vs_1_document_max": queries},
        "load": {"checks": {"every request ends signed and sealed": {"ok": load_ok}},
                 "ratio_p95_load_vs_median_alone": p95_ratio, "goal_ratio": 3.0},
        "peer": peer,
    }}


def test_issue19_goals_pass_fail_and_not_measured():
    peer = {"measured": True, "ratio_sign_b_t": 1.4, "ratio_path_b_t": 1.9, "goal_sign": 1.5,
            "goal_path": 2.0}
    goals = bench_run.evaluate(_issue19_results(peer=peer))
    assert len(goals) == 6 and all(g["pass"] for g in goals), goals
    failed = [g["name"] for g in bench_run.evaluate(_issue19_results(
        peer=dict(peer, ratio_sign_b_t=1.6), load_ok=False, p95_ratio=3.1, last=1.3, queries=1.2))
        if not g["pass"]]
    assert failed == ["last 'Sign' / other 'Sign' (client medians)",
                      "queries per step at 10 documents / at 1 (medians, worst step)",
                      "load: every request ends signed and sealed",
                      "load: p95 of 'Sign' under load / median of 'Sign' alone",
                      "our sign POST at B-T / sign_oca's"]
    # the query budgets (on the medians) and the server log of the http part
    results = _issue19_results(peer=peer)
    results["parts"]["http"].update({
        "queries_by_documents_median": {"1": {"signer_page": 20, "sign_last": 34},
                                        "10": {"signer_page": 21, "sign_last": 34}},
        "server_log_failures": ["... ERROR ... bad query"]})
    failed = [g["name"] for g in bench_run.evaluate(results) if not g["pass"]]
    assert failed == [
        "queries of 'signer_page' (production server, median at 1 and at 10 documents)",
        "http: the server logged no error and never retried a transaction"]
    # the peer could not be installed: its goals are "not measured", never a pass
    goals = bench_run.evaluate(_issue19_results(peer={"measured": False, "reason": "offline"}))
    unmeasured = [g for g in goals if g.get("not_measured")]
    assert [g["not_measured"] for g in unmeasured] == ["offline", "offline"]
    assert not any(g["pass"] for g in unmeasured)
    results = {"machine": {"date": "d", "cpu": "c", "cpu_count": 2, "python": "3",
                           "packages": {}}, "quick": True, "parts": {}, "errors": {},
               "goals": goals, "duration_s": 1.0, "all_goals_met": False}
    assert "[NOT MEASURED] our sign POST at B-T / sign_oca's: not measured, offline" \
        in bench_run.table(results)


def test_load_matches_concurrent_requests_to_their_access_log_lines_by_path():
    import bench_load

    def line(path, queries):
        return {"method": "POST", "path": path, "queries": queries, "sql_ms": 1.0,
                "server_ms": 2.0}

    # the server answered signer 2 before signer 1, and signer 1 twice
    lines = [line("/esign/action/2/sign", 20), line("/esign/action/1/send_code", 11),
             line("/esign/action/1/sign", 10)]
    records = [{"method": "POST", "path": "/esign/action/1/send_code"},
               {"method": "POST", "path": "/esign/action/1/sign"},
               {"method": "POST", "path": "/esign/action/2/sign"}]
    bench_load.match_by_path(records, lines)
    assert [r["queries"] for r in records] == [11, 10, 20]
    try:
        bench_load.match_by_path([{"method": "POST", "path": "/esign/action/3/sign"}], lines)
    except RuntimeError as exc:
        assert "/esign/action/3/sign" in str(exc)
    else:
        raise AssertionError("a request without its access-log line must fail the part")
