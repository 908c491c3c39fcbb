"""Reading the files under content/: what FAQs, tours and surveys share.

``rules`` (locales, ids, sites, the ``file:line`` error), ``files`` (which files a folder holds
and whether they changed), ``markdown`` (rendering and sanitising), ``fields`` (YAML that keeps
line numbers) and ``live`` (a folder re-read as its files change). Nothing here knows Flask or
the database.
"""
