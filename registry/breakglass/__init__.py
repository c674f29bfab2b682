"""Break-glass (紧急调阅, issue 14 §4): a doctor or area officer opens one patient outside their jurisdiction by
the full ID number and a stated reason, for ``BREAK_GLASS_HOURS``, read-only; the patient's own township doctors and
the county officers covering the patient see it in a review list until area staff acknowledge it.

The access itself is a row (``registry.models.BreakGlassAccess``) that the one visibility rule reads
(``Patient.objects.visible_to``); nothing here widens visibility in any other way. There is no browsing: a patient is
found only by the full, valid ID number, typed into a POST form, never carried in a URL.

May import: ``registry.models``, ``registry.access``, ``registry.patients`` (the ID-number checker, masking),
``casemgmt``.
"""
