#!/usr/bin/env python3
"""Merge a .pot into a .po (like msgmerge, with polib, which Odoo already requires).

Usage: po_merge.py TEMPLATE.pot LANG.po  — prints how many entries still lack a translation.
"""
import os
import sys

import polib


def main(pot_path, po_path):
    pot = polib.pofile(pot_path)
    old = polib.pofile(po_path) if os.path.exists(po_path) else polib.POFile()
    translations = {(e.msgctxt, e.msgid): e for e in old}
    by_id = {e.msgid: e for e in old}
    merged = polib.POFile(wrapwidth=78)
    merged.metadata = dict(pot.metadata)
    merged.metadata.update({
        "Language": "fr",
        "Language-Team": "French",
        "Plural-Forms": "nplurals=2; plural=(n > 1);",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "",
    })
    missing = 0
    for entry in pot:
        previous = translations.get((entry.msgctxt, entry.msgid)) or by_id.get(entry.msgid)
        new = polib.POEntry(
            msgid=entry.msgid, msgctxt=entry.msgctxt, occurrences=entry.occurrences,
            comment=entry.comment, tcomment=entry.tcomment, flags=[f for f in entry.flags if f != "fuzzy"],
            msgstr=previous.msgstr if previous else "")
        if not new.msgstr:
            missing += 1
        merged.append(new)
    merged.save(po_path)
    print("%s: %d entries, %d without a translation" % (po_path, len(merged), missing))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
