"""Settings for the demo, the tests and the benchmarks: the product's settings plus the ``devdata`` app.

A production deployment runs ``casemgmt.settings`` and so has no command that invents patients.
"""

from __future__ import annotations

from casemgmt.settings import *  # noqa: F403  (this module extends the one settings module)
from casemgmt.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "devdata"]
