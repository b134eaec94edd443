"""Shared helpers of the benchmarks: the signing core loaded without Odoo, interleaved timing,
statistics, machine information and child processes.

Plain Python; imported by every ``bench/bench_*.py`` (``bench/`` is put on ``sys.path`` by
``bench/run.py``, or by the section modules when run alone).
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
LIB_DIR = ROOT / "o2s_esign" / "lib"
SUPPORT_DIR = ROOT / "tests" / "support"


# --- the signing core, without Odoo -----------------------------------------------------------

def load_lib():
    """``o2s_esign/lib`` as the package ``o2s_esign_lib`` (as tests/lib/conftest.py does: the
    addon's ``__init__`` needs Odoo), and ``tests/support`` on the path (PKI server, PDFs)."""
    if str(SUPPORT_DIR) not in sys.path:
        sys.path.insert(0, str(SUPPORT_DIR))
    module = sys.modules.get("o2s_esign_lib")
    if module is None:
        spec = importlib.util.spec_from_file_location(
            "o2s_esign_lib", LIB_DIR / "__init__.py", submodule_search_locations=[str(LIB_DIR)])
        module = importlib.util.module_from_spec(spec)
        sys.modules["o2s_esign_lib"] = module
        spec.loader.exec_module(module)
    for name in ("chain", "errors", "evidence", "pdf", "pki", "signing"):
        importlib.import_module(f"o2s_esign_lib.{name}")
    return module


# --- statistics -------------------------------------------------------------------------------

def percentile(values, fraction: float) -> float:
    """Linear-interpolated percentile (``fraction`` in 0..1) of a non-empty sequence."""
    data = sorted(values)
    if len(data) == 1:
        return float(data[0])
    position = (len(data) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(data) - 1)
    return float(data[low] + (data[high] - data[low]) * (position - low))


def summary(values) -> dict:
    """median / p95 / min / max / mean / n of a list of numbers (ms, queries...)."""
    values = list(values)
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "median": round(statistics.median(values), 3),
        "p95": round(percentile(values, 0.95), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
        "mean": round(statistics.fmean(values), 3),
    }


def ratio(numerator: float, denominator: float) -> float | None:
    if not denominator:
        return None
    return round(numerator / denominator, 3)


def interleave(cases: dict[str, Callable[[], object]], *, runs: int, warmup: int = 2,
               on_result: Callable[[str, object], None] | None = None) -> dict[str, list[float]]:
    """Time each case ``runs`` times (ms, ``time.perf_counter``), interleaved: every iteration
    runs every case once, in an order that rotates and alternates direction from one iteration
    to the next (A B C, C B A, B C A, A C B...), so a slow period of a noisy machine hits all
    cases alike and no case always runs first or after the same neighbour. ``warmup``
    iterations (same order rule) are run first and not kept."""
    names = list(cases)
    times: dict[str, list[float]] = {name: [] for name in names}
    for iteration in range(warmup + runs):
        shift = (iteration // 2) % len(names)
        order = names[shift:] + names[:shift]
        if iteration % 2:
            order.reverse()
        for name in order:
            start = time.perf_counter()
            result = cases[name]()
            elapsed = (time.perf_counter() - start) * 1000.0
            if iteration >= warmup:
                times[name].append(elapsed)
            if on_result is not None:
                on_result(name, result)
    return times


# --- machine ----------------------------------------------------------------------------------

def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict:
    """CPU, memory, OS, Python and the versions of the libraries that matter here."""
    try:
        mem_kib = int(next(line.split()[1] for line in open("/proc/meminfo", encoding="utf-8")
                           if line.startswith("MemTotal")))
    except (OSError, StopIteration, ValueError):
        mem_kib = 0
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_mib": mem_kib // 1024,
        "load_average_at_start": load,
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in (
            "pyHanko", "pyhanko-certvalidator", "cryptography", "asn1crypto", "aiohttp",
            "certomancer", "reportlab", "psycopg2", "requests")},
    }


def proc_memory_mib() -> dict:
    """This process's current and peak resident set size (``VmRSS``, ``VmHWM`` of
    /proc/self/status), MiB. Not ``ru_maxrss``: Linux keeps it across ``execve``, so a child
    started from a big parent would report the parent's size."""
    values = {}
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    values[key] = int(rest.split()[0]) / 1024.0
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        values = {"VmRSS": peak, "VmHWM": peak}
    return {"rss": values.get("VmRSS", 0.0), "peak": values.get("VmHWM", 0.0)}


# --- child processes ----------------------------------------------------------------------------

def run_child(args: list[str], *, timeout: float = 1800, env: dict | None = None) -> dict:
    """Run ``python <args...> --json-out FILE`` and return the JSON it wrote; its stdout and
    stderr pass through (progress lines). Raises RuntimeError when it fails."""
    import tempfile

    with tempfile.NamedTemporaryFile(prefix="o2s-bench-", suffix=".json", delete=False) as fh:
        out = fh.name
    try:
        proc = subprocess.run([sys.executable, *args, "--json-out", out], timeout=timeout,
                              env=env, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed with exit code {proc.returncode}")
        with open(out, encoding="utf-8") as fh:
            return json.load(fh)
    finally:
        try:
            os.unlink(out)
        except OSError:
            pass


def write_json(path: str | os.PathLike, data: dict):
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=False, default=str)
        fh.write("\n")


def server_parser(doc: str):
    """The command line of a part that starts its own Odoo server: ``--config``, ``--db``,
    ``--odoo-bin``, ``--port``, ``--json-out`` (the part adds its own options)."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--odoo-bin", required=True)
    parser.add_argument("--port", type=int, default=8069)
    parser.add_argument("--json-out")
    return parser


def emit(result: dict, json_out: str | None):
    """A part's result: into ``json_out`` (the runner's file), else on stdout."""
    if json_out:
        write_json(json_out, result)
    else:
        print(json.dumps(result, indent=2, default=str))


def progress(message: str):
    """A progress line on stderr (the table goes to stdout)."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)
