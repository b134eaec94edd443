#!/usr/bin/env python3
"""A stand-in mail server for the demo (`make run`): an SMTP server (aiosmtpd) on 127.0.0.1
that delivers nothing. It prints each message it receives (recipients, subject and the links of
its body: the signing link of an invitation) and, with --dir, keeps it there as an .eml file
that any mail client opens."""
import argparse
import asyncio
import email
import email.policy
import html
import re
import signal
import sys
import time
from pathlib import Path

from aiosmtpd.controller import Controller

LINK_RE = re.compile(r"""href=["']([^"']+)["']|(https?://[^\s<>"']+)""")
# Links every mail of Odoo carries, which say nothing about this message.
NOISE = ("odoo.com", "/mail/unfollow", "/mail/view?", "mailto:")


def links(message):
    """The http(s) links of the message's body, in order, each once, noise left out."""
    part = message.get_body(preferencelist=("html", "plain"))
    if part is None:
        return []
    found = []
    content = re.sub(r"""src=["'][^"']*["']""", "", part.get_content())  # images: not links
    for href, bare in LINK_RE.findall(content):
        link = html.unescape(href or bare)
        if link.startswith("http") and not any(noise in link for noise in NOISE) \
                and link not in found:
            found.append(link)
    return found


class Handler:
    def __init__(self, folder=None):
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.count += 1
        lines = ["", "[Mail to %s from %s]" % (", ".join(envelope.rcpt_tos), envelope.mail_from),
                 "Subject: %s" % message.get("Subject", "")]
        lines += ["Link: %s" % link for link in links(message)]
        if self.folder:
            path = self.folder / ("%s-%03d.eml" % (time.strftime("%Y%m%d-%H%M%S"), self.count))
            path.write_bytes(envelope.content)
            lines.append("Saved as %s" % path)
        print("\n".join(lines) + "\n", file=sys.stderr, flush=True)
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, help="keep each message there as an .eml file")
    args = parser.parse_args()
    if args.dir:
        args.dir.mkdir(parents=True, exist_ok=True)
    controller = Controller(Handler(args.dir), hostname="127.0.0.1", port=args.port)
    controller.start()
    # Stop on SIGTERM or SIGINT alike, quietly (no traceback).
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        loop.run_until_complete(stop.wait())
    finally:
        controller.stop()
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
