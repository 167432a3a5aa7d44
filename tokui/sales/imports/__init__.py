"""Imports that real offices can use (CARD-11): read CSV/XLSX in the encodings Japanese and
Korean Excel write, map columns, validate every row first, then write all or nothing.

- ``reading``: encoding detection and streaming rows from CSV or XLSX;
- ``columns``: each kind's default columns and the mapping of a file's headers to them;
- ``checks``: value checks shared by every kind (dates, numbers, formula text, markup);
- ``writers``: per kind, validating and writing rows (services for cards, set-based SQL for
  products, orders and payments);
- ``runner``: one import job from file to result, with progress and cancel.
"""
