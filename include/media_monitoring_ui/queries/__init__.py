"""Read-only queries behind the view's pages, one module per page: ``hits`` (watchlist hits), ``choices``
(the filters' outlets and regions), ``stories`` (story groups), ``digests`` (digests as sent), ``feeds``
(feed health) and ``quality`` (validation runs and quarantine).

Every query is bounded and served by an index, so pages stay fast on a warehouse of millions of articles:
lists are read newest first with keyset pagination (:mod:`media_monitoring_ui.cursors`), never OFFSET over a
big table; only the small tables (a row per day and subscription, a row per outlet) are paged by LIMIT/OFFSET,
with a page-size cap. Each module says which index serves which query.

The statement builders (``*_query``) are public so tests can EXPLAIN exactly what the view runs.
"""
