"""Tours, hints, checklists and surveys: the content model (``tours``, ``surveys``), the live
content folders (``library``), who sees what where (``targeting``), what each user did
(``progress``) and the widget's endpoints (``routes``)."""
