"""The registry workbook import (exchange.md §1): ``manage.py import_workbook`` and the upload page.

Modules: ``schema`` (sheets, column keys, Chinese aliases), ``cells`` (typed cell reading with located
problems), ``validation`` (the first, checking pass), ``loading`` (the second, writing pass, and the entry point
``import_workbook``), ``report`` (what a run found and did), ``models`` / ``tasks`` (the background job),
``views`` / ``forms`` (the upload page), ``template`` (the downloadable template workbook).
"""
