"""The `guide` command line and the settings table it prints (``guide`` in tests/support.py runs it)."""
