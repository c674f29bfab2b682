"""A synthetic province for benchmarks and load tests: areas, patients, follow-up histories and the rest.

It lives in ``followup`` because it writes follow-ups (``registry`` never imports ``followup``). Entry point:
:func:`devdata.synthetic.run.generate`, or ``manage.py generate_synthetic``. Nothing here is about real people.
"""
