"""``python manage.py reset_second_factor USERNAME``: remove an account's authenticator and recovery codes.

For the server's operators (a superuser's lost phone: superusers are out of reach of the product's page). In the
product, county officers and administrators use 登录安全 (/security/) or an account's page. Audited OTP_RESET
with ``source: command``; the account binds a new authenticator at its next login.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from casemgmt.accounts.models import User
from casemgmt.accounts.twofactor import services
from casemgmt.management import options as option


class Command(BaseCommand):
    help = _("重置账号的动态口令（删除其身份验证器和恢复码，下次登录时须重新绑定）。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help=_("用户名"))

    def handle(self, *args: object, **options: object) -> None:
        username = option.text(options, "username")
        account = User.objects.filter(username=username).first()
        if account is None:
            raise CommandError(_("没有用户名为 %(username)s 的账号。") % {"username": username})
        services.reset(actor=None, account=account, source="command")
        self.stdout.write(_("已重置账号 %(username)s 的动态口令；其下次登录时须重新绑定。") % {"username": username})
