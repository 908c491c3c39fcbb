"""The search package on its own, with no Flask: FAQ parsing, tokenisers, encoders, index builds
and reloads, ranking. Indexes are built with the real bundled models (``sample_index`` and
``small_content`` in the root conftest)."""
