"""Issue 16 §7: a deployment serves static files under content-hashed names, so a phone never runs a stale script
after an upgrade (collectstatic writes them and the manifest; pages link to the hashed names)."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings

from casemgmt.settings import storages
from tests.base import World

pytestmark = pytest.mark.django_db


def test_a_deployment_hashes_static_names_and_the_pages_link_to_them(world: World, tmp_path: Path) -> None:
    with override_settings(STORAGES=storages(True), STATIC_ROOT=tmp_path, DEBUG=False):
        call_command("collectstatic", interactive=False, verbosity=0, stdout=StringIO())
        assert (tmp_path / "staticfiles.json").is_file()
        page = Client().get("/login/").content.decode()
    scripts = re.findall(r'src="/static/(js/site\.[0-9a-f]{12}\.js)"', page)
    assert scripts and (tmp_path / scripts[0]).is_file()
    assert re.search(r'href="/static/css/app\.[0-9a-f]{12}\.css"', page)


def test_production_settings_hash_by_default_and_the_tests_serve_sources() -> None:
    import casemgmt.settings as production

    assert production.STATIC_HASHED_NAMES is not production.DEBUG  # on unless DJANGO_DEBUG
    assert "Manifest" in production.storages(True)["staticfiles"]["BACKEND"]
    assert "Manifest" not in settings.STORAGES["staticfiles"]["BACKEND"]  # devdata.settings: live servers
