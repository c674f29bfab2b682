"""Staff accounts: the user model with its role, memberships in areas (the user's jurisdiction), log-in with its
throttle, the typed request of a logged-in user, and the provisioning command.

May import: ``casemgmt.areas``, ``casemgmt.audit``, Django. Nothing from the domain apps.
"""
