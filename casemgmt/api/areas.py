"""The area an API request names: 400 when the text is no area code, 404 when the area is missing or outside the
account's jurisdiction (the two alike, as everywhere)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from casemgmt.accounts.models import User
from casemgmt.api.errors import ApiError
from casemgmt.areas import codes
from casemgmt.areas.models import Area


def area_code_of(text: str) -> str:
    """The 12-digit code of a code or significant prefix (2, 4, 6, 9 or 12 digits); ApiError 400 otherwise."""
    try:
        return text if codes.is_valid_code(text) else codes.code_from_prefix(text)
    except codes.AreaCodeError:
        raise ApiError(
            400, _("区划代码“%(code)s”格式不正确：应为12位代码，或其2、4、6、9位有效前缀。") % {"code": text[:20]}
        ) from None


def is_missing(text: str) -> bool:
    """Whether *text* is a well-formed area code naming no area."""
    try:
        code = area_code_of(text)
    except ApiError:
        return False
    return not Area.objects.filter(code=code).exists()


def reachable_area(user: User, text: str) -> Area:
    """The area *text* names, if it lies within the user's jurisdiction."""
    code = area_code_of(text.strip())
    area = Area.objects.filter(code=code).first()
    prefix = codes.significant_prefix(code)
    if area is None or not any(prefix.startswith(own) for own in user.jurisdiction_prefixes()):
        raise ApiError(404, _("无权查看该地区。"))
    return area
