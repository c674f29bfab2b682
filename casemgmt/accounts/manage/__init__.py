"""Account administration inside the product (for system administrators), in Chinese.

The rules an account must obey (a role's area levels, password strength, ``is_staff`` following the role) live
in ``casemgmt.accounts.management.provisioning`` and are reused here; this package adds the pages, the
temporary password that must be changed at next login, and the audit rows. ``approvals`` is the separation of
duties: a change that gives access is a request another person approves (setting ``ACCOUNT_APPROVER_RULE``).
"""
