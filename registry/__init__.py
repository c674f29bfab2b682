"""The patient registry (domain.md §4): identity (encrypted), the supplementary form, status, consent, custody and
transfers between townships, and the one visibility rule every other app starts from.

Layer: stands on ``casemgmt``; never imports ``followup`` or ``metrics`` (import-linter). It tells higher layers
about changes through ``registry.signals`` and shows their panels through ``registry.patients.panels``.
"""
