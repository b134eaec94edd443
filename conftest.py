# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""pytest glue for the whole suite (plain tests in tests/ and Odoo tests in o2s_esign/tests).

What it adds to pytest-odoo 2.3.0 on Odoo 18:

1. ``odoo.modules.module.current_test`` is set around every test, as Odoo's own runner does:
   Odoo 18 only blocks real SMTP (ir.mail_server) when it is set, and pytest-odoo sets it only
   for Odoo >= 19. Tests that want the real SMTP path patch it back to False themselves.
2. Odoo's test tags: classes tagged ``-standard`` are opt-in (deselected unless
   ``--odoo-nonstandard``), as under ``odoo-bin --test-tags``.
3. The practice of Odoo module CI: a WARNING or ERROR logged while a test runs fails that test,
   unless the test expected it (``self.assertLogs(...)`` or ``mute_logger(...)``, which both keep
   the record away from the root logger, or pytest's ``caplog`` fixture, with which the test
   inspects the records itself).
4. A skipped test fails the run (a tour skips silently without Chromium or websocket-client),
   unless O2S_ALLOW_SKIPS=1.
"""
import logging
import os

import pytest

try:  # Import Odoo's test framework in test mode, before pytest-odoo does it outside of it
    # (Odoo logs an ERROR when its test framework is imported while test_enable is off).
    from odoo.tools import config as _odoo_config
except ImportError:  # plain tests without Odoo on the path
    _odoo_config = None
else:
    _test_enable = _odoo_config["test_enable"]
    _odoo_config["test_enable"] = True
    try:
        import odoo.tests.common  # noqa: F401
    finally:
        _odoo_config["test_enable"] = _test_enable

# Log records at this level or above, reaching the root logger during a test, fail the test.
_FAIL_LEVEL = logging.WARNING
# Records that say something about this machine, not about the code under test.
_IGNORED = (
    ("odoo.service.server", "Running as user 'root' is a security risk"),
)


class _Collector(logging.Handler):
    def __init__(self):
        super().__init__(level=_FAIL_LEVEL)
        self.records = []

    def emit(self, record):
        message = record.getMessage()
        for logger_name, text in _IGNORED:
            if record.name == logger_name and text in message:
                return
        self.records.append(record)


_collector = _Collector()


def pytest_addoption(parser):
    parser.addoption("--odoo-nonstandard", action="store_true",
                     help="also run Odoo test classes tagged '-standard' (opt-in tests)")


def pytest_configure(config):
    logging.getLogger().addHandler(_collector)


def pytest_collection_modifyitems(config, items):
    if config.getoption("--odoo-nonstandard"):
        return
    keep, drop = [], []
    for item in items:
        tags = getattr(getattr(item, "cls", None), "test_tags", None)
        (drop if tags is not None and "standard" not in tags else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def _o2s_current_test(request):
    try:
        from odoo.modules import module
    except ImportError:  # plain tests without Odoo on the path
        yield
        return
    previous = module.current_test
    module.current_test = getattr(request, "instance", None) or True
    try:
        yield
    finally:
        module.current_test = previous


@pytest.fixture(autouse=True)
def _o2s_fail_on_logged_warnings(request):
    _collector.records.clear()
    yield
    records, _collector.records[:] = list(_collector.records), []
    if records and "caplog" not in request.fixturenames:
        lines = "\n".join(
            "%s %s: %s" % (r.levelname, r.name, r.getMessage().splitlines()[0] if r.getMessage() else "")
            for r in records[:10])
        pytest.fail("unexpected WARNING/ERROR logged during the test (wrap it in "
                    "assertLogs/mute_logger if it is expected):\n" + lines, pytrace=False)


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and os.environ.get("O2S_ALLOW_SKIPS") != "1" and session.exitstatus == 0:
        reporter.write_line("%d test(s) skipped: a skipped test fails the run "
                            "(set O2S_ALLOW_SKIPS=1 to allow it)." % skipped, red=True)
        session.exitstatus = 1
