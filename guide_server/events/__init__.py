"""Widget events for the review desk: the vocabulary (``types``), validation and storage of a
batch (``ingest``) and its endpoint (``routes``)."""
