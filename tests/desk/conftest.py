"""The review desk: logins, pages, CSV, the admin API and (browser marker) its screens. Each module
makes its app from admin_seed.py, a hand-made week of use whose figures are written down there."""
