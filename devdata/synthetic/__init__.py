"""A synthetic province for benchmarks and load tests: areas, patients, follow-up histories and the rest.

It lives in ``devdata`` (demo and test settings only) because it writes every app's rows. Entry point:
:func:`devdata.synthetic.run.generate`, or ``manage.py generate_synthetic``. Nothing here is about real people.
"""
