"""Rehabilitation participation (start and end, domain.md §10) and the annual health check: their forms,
services, pages and urls (included by ``followup.urls`` in the ``followup`` namespace).

May import ``casemgmt``, ``registry``, ``followup.models`` and ``followup.visits`` (the follow-up's form fields,
its submission parser and error, and the clinical page helpers of ``followup.visits.pages``); nothing in
``followup.visits`` imports this package.
"""
