#!/usr/bin/env python3
"""odoo-bin for `make run`: Odoo's own command line (same arguments), that stops without a
traceback.

Odoo 18's threaded server ends its scheduled-action threads by closing their database
connections while they wait on them: each such thread then dies on
``psycopg2.InterfaceError: connection already closed`` and Python prints its traceback, at every
Ctrl-C. That error, in those threads, once the server is stopping, is how they end: it is not
printed. Any other error of any thread is printed as usual.
"""
import os
import sys
import threading

# As odoo-bin: the server's time zone is UTC, before the time module is imported.
os.environ["TZ"] = "UTC"

import psycopg2

import odoo  # (after TZ, as in odoo-bin)
from odoo.service import server as odoo_server

_print_thread_error = threading.excepthook


def _excepthook(args):
    server = odoo_server.server
    stopping = server is not None and getattr(server, "quit_signals_received", 0) > 0
    if (stopping and args.thread is not None and args.thread.name.startswith("odoo.service.cron")
            and isinstance(args.exc_value, psycopg2.InterfaceError)):
        return
    _print_thread_error(args)


if __name__ == "__main__":
    threading.excepthook = _excepthook
    sys.exit(odoo.cli.main())
