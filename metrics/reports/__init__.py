"""The indicator reports: the engine (state first, direct definition as fallback), the exchange document
(exchange.md §2), the report page, the PDF and spreadsheet, the patient lists behind a figure and the JSON API.

May import: ``metrics.indicators``, ``metrics.state``, ``metrics.models``, ``registry``, ``casemgmt``.
"""
