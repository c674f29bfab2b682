"""The jurisdiction tree: 12-digit statistical area codes (province … village), populations by year, the area
loader, and ``scope.within(prefixes, field)`` — the one way an area-code prefix becomes a query filter.

May import: Django only.
"""
