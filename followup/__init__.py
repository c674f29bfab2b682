"""Community follow-up of registered patients: visits, rehabilitation, case management, emergencies, the county
overview and the registry workbook import.

Layer: stands on ``registry`` and ``casemgmt``; never imports ``metrics`` (import-linter). Each bounded context is
a sub-package with its own forms, services, views and urls; models live in ``followup.models`` (one module per
context) so Django finds them.
"""
