"""The one visibility rule and what a visible patient discloses.

``visibility``: who may see and write which patient — area subtrees of the user's memberships plus explicit
per-patient grants (``Patient.objects.visible_to``), and the one 404 helper ``get_patient_for_user``.
``disclosure``: how much of a visible record a user sees (full, masked until a reason is stated, the case team's
limited view). May import: ``registry.models``, ``casemgmt``.
"""
