#!/usr/bin/env python3
"""Fail (exit 1) when an Odoo log file holds a WARNING, ERROR or CRITICAL line, printing them.

Lines that describe this machine rather than the code (running as root) are ignored.
"""
import re
import sys

LEVEL = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (WARNING|ERROR|CRITICAL) ")
IGNORED = (
    "Running as user 'root' is a security risk",
)


def main(paths):
    bad = []
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if LEVEL.match(line) and not any(text in line for text in IGNORED):
                    bad.append("%s: %s" % (path, line.rstrip()))
    for line in bad[:50]:
        print(line, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
