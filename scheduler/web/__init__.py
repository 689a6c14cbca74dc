"""The read-only web viewer (`kisi-archive serve`): pages, JSON twins, Memento, feeds, health.

Modules: `app` (the Starlette application and its routes), `reader` (a read-only archive per
server thread), `views` (what each page shows, as data), `memento` (RFC 7089 headers and
TimeMaps), `atom` (the changes feed), `cite` (citations), `diffview` (diffs laid out for
HTML), `ops` (/healthz, /metrics), `server` (binding and running uvicorn).
Importing this package imports nothing heavy: `atom` is standard library only, so a crawl
run can write the archive's feed without loading the web stack.
"""
