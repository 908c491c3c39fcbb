"""Pseudonyms and masking before storage, and `guide purge` / `guide forget-user` through the CLI."""
