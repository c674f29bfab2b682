"""How a loading command refuses a file: every problem on stderr, then exit status 1 saying nothing was written."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.management.base import CommandError, OutputWrapper
from django.utils.translation import gettext as _


def refuse(stderr: OutputWrapper, problems: Iterable[object], *, total: int | None = None) -> CommandError:
    """Write each problem; the error to raise. *total* counts problems beyond those listed, when capped."""
    listed = 0
    for problem in problems:
        stderr.write(str(problem))
        listed += 1
    count = listed if total is None else total
    if count > listed:
        stderr.write(_("……另有%(count)d个问题。") % {"count": count - listed})
    return CommandError(_("发现%(count)d个问题，未写入任何数据。") % {"count": count}, returncode=1)
