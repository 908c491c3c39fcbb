"""The database: ``schema`` (every table), ``engine`` (opening it), ``upsert`` (one-statement
writes) and ``retention`` (purge and forget)."""
