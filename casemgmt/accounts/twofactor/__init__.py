"""The second factor (issue 14 §5): accounts that can open identities outside a township or export — area staff,
administrators and superusers — pass a TOTP code from an authenticator app (or one of ten single-use recovery
codes) after their password.

- ``policy``: who must, and whether a request's session has passed it.
- ``services``: enrolment (an unconfirmed TOTP device, confirmed by a first code, then ten recovery codes),
  checking a code (wrong codes count toward the login lockout of ``casemgmt.accounts.throttle``), resetting an
  account's devices; each writes its audit row (OTP_ENROLL, OTP_FAILED, OTP_RECOVERY_USED, OTP_RESET, LOGIN).
- ``enforce``: the middleware that refuses every page but the code pages and logging out until then.
- ``views`` / ``urls``: the code page, the enrolment page (QR code as an SVG ``data:`` image, the secret in text)
  and the one showing of the recovery codes.

Built on django-otp (``django_otp``, ``otp_totp``, ``otp_static``): a verified session holds the device's id
(``django_otp.login``), which ``django_otp.middleware.OTPMiddleware`` checks on every request; a device deleted
by a reset unverifies every session that used it.

May import: ``casemgmt.accounts`` (models, throttle, login_audit), ``casemgmt.audit``, django-otp, segno, Django.
"""
