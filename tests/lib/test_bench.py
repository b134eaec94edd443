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
