#!/usr/bin/env python3
"""A stand-in RFC 3161 timestamp authority for the demo (`make run`), so that the demo signs at
PAdES B-T with no setting touched and no network: the local test PKI of the tests
(tests/support/pki_server.py, certomancer, tests/fixtures/pki/certomancer.yml) served on
127.0.0.1. Its keys are generated on first use into --key-dir (kept, so the root stays the same
from one run to the next) and its root certificate is written to --root-out for
scripts/demo_stand_ins.py. Never for production: a real deployment uses a real authority
(README, Configuration)."""
import argparse
import signal
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key-dir", required=True, help="where the stand-in's keys are kept")
    parser.add_argument("--root-out", required=True, help="file the root certificate is written to")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO / "tests" / "support"))
    from asn1crypto import pem
    from pki_server import DEFAULT_CONFIG, PkiServer, generate_keys

    key_dir = Path(args.key_dir)
    if not key_dir.is_dir():
        tmp = key_dir.with_name(key_dir.name + ".tmp")
        tmp.mkdir(parents=True, mode=0o700)
        generate_keys(DEFAULT_CONFIG, tmp)
        tmp.rename(key_dir)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with PkiServer(key_dir=key_dir, port=args.port) as pki:
        root = pem.armor("CERTIFICATE", pki.root_cert.dump())
        out = Path(args.root_out)
        out.with_suffix(".tmp").write_bytes(root)
        out.with_suffix(".tmp").rename(out)
        print("[timestamp authority stand-in on %s]" % pki.tsa_url, file=sys.stderr, flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
