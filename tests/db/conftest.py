"""The database file as server processes open it: one schema, created whole, by several at once."""
