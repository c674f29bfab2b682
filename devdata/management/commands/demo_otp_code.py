"""``python manage.py demo_otp_code USERNAME``: the six-digit code a demo account's authenticator would show now.

For trying the demo without an authenticator app: county staff and administrators must bind one at their first
login (casemgmt.accounts.twofactor); this reads the secret of the account's authenticator (the one being bound,
or the bound one) and prints the current code. Demo and test settings only (devdata): production has no command
that reads a second factor's secret.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from casemgmt.management import options as option


class Command(BaseCommand):
    help = _("演示用：显示演示账号的身份验证器当前的6位动态口令（无需手机）。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help=_("演示账号的用户名"))

    def handle(self, *args: object, **options: object) -> None:
        username = option.text(options, "username")
        device = TOTPDevice.objects.filter(user__username=username).order_by("-confirmed", "-id").first()
        if device is None:
            raise CommandError(
                _("账号 %(username)s 还没有身份验证器：请先用它登录，打开绑定页面。") % {"username": username}
            )
        code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
        self.stdout.write(f"{code:0{device.digits}d}")
