from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "casemgmt.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from casemgmt.accounts.manage import approvals  # noqa: F401  # registers the approver-rule check
