"""What a test needs of the machine, and what its absence means (a helper module, not a
test module).

A test that needs something this machine may lack (a PostgreSQL, Chromium, a PID namespace,
a tmpfs it may mount, root, the DuckDB command-line tool, a git work tree) calls
:func:`require`. Without it the test skips, saying what is missing. Under ``CI=true``
(``.ci/run`` exports it) the test fails instead: CI is meant to have every one of these,
and a CI that passes by skipping proves nothing.

Not everything is a prerequisite of CI. The official lists in ``../shared`` are not part of
the repository, and CI runs on a clean clone where ``../shared`` does not exist: the tests
that read them skip there too (a plain ``pytest.skip``, saying so), and the project must
pass without them. So do the install tests that need pyenv's Pythons, which CI has not.
"""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    """Whether this is CI (``CI=true``, as .ci/run and most CI services set it)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def require(condition: bool, what: str) -> None:
    """Go on if ``condition``; otherwise skip saying ``what`` is missing, or under
    ``CI=true`` fail saying so."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{what}; CI=true, and CI must have it: failed, not skipped", pytrace=False)
    # reported at the test, as a skipif mark is, not at this line
    raise pytest.skip.Exception(what, _use_item_location=True)
