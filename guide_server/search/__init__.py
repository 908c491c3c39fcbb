"""FAQ search, with no Flask and no database: from content/faq files to ranked answers.

The flow: ``faq`` parses files into records, ``builder`` turns them into an index folder
(``index`` per locale: ``encoders`` for vectors, ``lexical`` for BM25, ``records`` for the
stored FAQs, ``textnorm`` for tokens), ``live`` loads the current build in a server and swaps in
new ones, and ``engine`` ranks FAQs for a question and says how sure it is. Errors are the
exceptions of ``errors``; the web layer maps them to HTTP.
"""
