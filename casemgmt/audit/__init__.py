"""The append-only audit log: who read or changed which patient (by UUID, never by identity), when and why.

May import: Django only. Every domain app writes to it through ``casemgmt.audit.services.record_event``.
"""
