"""Demo and synthetic data: the demo city's loaders, the synthetic province generator and their commands.

Installed only by the demo and test settings (``devdata.settings``); no product module imports it (an
import-linter contract in ``.ci/run``). It may import every product app, since it writes their rows.
"""
