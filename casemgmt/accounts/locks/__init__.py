"""Login locks and second factors of other accounts, lifted and reset in the product (issue 14 §5).

A county officer (area staff) sees the accounts whose memberships lie inside their jurisdiction; an administrator
sees every account (superusers' only when a superuser). On one page: the accounts locked now by failed logins
("解除锁定" clears the username's failures, audited LOCK_LIFTED), and the accounts with an authenticator
("重置动态口令" removes it and the recovery codes, audited OTP_RESET; the next login enrols anew). Anyone else
gets the site's 404; one's own account is never listed.

May import: ``casemgmt.accounts`` (models, throttle, twofactor), ``casemgmt.areas``, ``casemgmt.audit``, Django.
"""
