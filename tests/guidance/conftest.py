"""Tours, hints, checklists and surveys: parsing with file:line errors, the live content folders,
targeting, and their endpoints."""
