"""The review desk's figures as plain JSON-ready values, computed from the database with no Flask:
``tours`` (funnels, stuck points, who was where), ``chat`` (FAQ feedback, unanswered questions
grouped by meaning) and ``overview`` (headline numbers, onboarding, NPS). Every function takes
``(engine, site, start, end, ...)`` with epoch seconds, so the desk's pages, its CSV downloads
and ``/api/v1/admin/...`` show the same numbers."""
