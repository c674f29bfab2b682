"""Field encryption: AES-256-GCM tokens bound to table, column and row (``cipher``), the encrypted model field
(``fields``), key rotation (``rotation``) and the bulk sealer every bulk writer uses (``bulk``).

May import: ``cryptography``, Django. Keys come from settings; nothing here logs or returns plaintext by accident.
"""
