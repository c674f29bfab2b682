"""The machine API (/api/v1/): bearer tokens, their authentication, rate limit and JSON errors, and the OpenAPI
schema.

A token belongs to one account and acts with exactly that account's visibility: the endpoints (in the apps that own
their data: ``metrics.reports.api``, ``followup.visits.api``) run the same access checks as the web pages, through
``casemgmt.api.auth.token_endpoint``. Session cookies never authenticate the API
(``casemgmt.api.middleware.ApiWithoutSessionMiddleware``). The tokens page (API令牌) lets doctors and area staff
create and revoke their own tokens; a token is shown once and only its SHA-256 digest is stored.
"""
