"""The external tools the tests check signatures with are required: a missing one fails the
test that needs it, with a clear message, instead of skipping it."""

import os

import pytest
import sigcheck


@pytest.mark.parametrize("tool", sorted(sigcheck.TOOL_PACKAGES))
def test_external_tools_are_installed(tool):
    path = sigcheck.require_tool(tool)
    assert os.path.basename(path) == tool and os.access(path, os.X_OK)


def test_missing_tool_fails_with_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing installed there
    with pytest.raises(AssertionError,
                       match=r"'pdfsig' is not installed.*apt-get install -y poppler-utils"):
        sigcheck.require_tool("pdfsig")
    with pytest.raises(AssertionError, match="'pdfsig' is not installed"):
        sigcheck.pdfsig(b"%PDF-1.7")
