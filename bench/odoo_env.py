"""Odoo in the benchmark's own process (set-up of the throwaway database, crons, home block).

``odoo_env(config, db)`` yields a superuser environment on ``db`` and commits when the block
ends without error. Query counts use the cursor's own counter, ``cr.sql_log_count``, which
``odoo.sql_db.Cursor.execute`` increments for every statement sent to PostgreSQL.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

_configured = False


def configure(config_file: str, db: str):
    """Parse Odoo's configuration once for this process (logs: warnings and errors only)."""
    global _configured
    if _configured:
        return
    from odoo.tools import config

    config.parse_config(["-c", config_file, "-d", db, "--log-level=warn", "--logfile="],
                        setup_logging=True)
    _configured = True


@contextmanager
def odoo_env(config_file: str, db: str, *, commit: bool = True):
    """A superuser environment on ``db``, committed at the end (rolled back on error)."""
    configure(config_file, db)
    import odoo
    from odoo.modules.registry import Registry

    registry = Registry(db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        yield env
        if commit:
            env.flush_all()
            cr.commit()
        else:
            cr.rollback()


class QueryCounter:
    """Queries and wall time of a block: ``with QueryCounter(cr) as qc: ...; qc.queries``."""

    def __init__(self, cr):
        self.cr = cr
        self.queries = 0
        self.ms = 0.0

    def __enter__(self):
        self._start_count = self.cr.sql_log_count
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.ms = (time.perf_counter() - self._start) * 1000.0
        self.queries = self.cr.sql_log_count - self._start_count
        return False


def close_all():
    """Drop the registry and close every pooled connection (before a server subprocess
    starts, or at the end)."""
    try:
        from odoo.modules.registry import Registry
        from odoo.sql_db import close_all as close_connections

        Registry.registries.clear()
        close_connections()
    except ImportError:  # Odoo was never imported
        pass
