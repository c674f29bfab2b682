"""Settings for the demo, the tests and the benchmarks: the product's settings plus the ``devdata`` app.

A production deployment runs ``casemgmt.settings`` and so has no command that invents patients.
"""

from __future__ import annotations

from casemgmt.env import env_bool
from casemgmt.settings import *  # noqa: F403  (this module extends the one settings module)
from casemgmt.settings import INSTALLED_APPS, storages

INSTALLED_APPS = [*INSTALLED_APPS, "devdata"]
# The demo (runserver --insecure) and the live test servers serve static files from their sources, which have
# no hashed names; a deployment hashes them (casemgmt.settings.STATIC_HASHED_NAMES).
STATIC_HASHED_NAMES = env_bool("STATIC_HASHED_NAMES", False)
STORAGES = storages(STATIC_HASHED_NAMES)
