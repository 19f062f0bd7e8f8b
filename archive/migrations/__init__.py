"""The migrate door: :func:`.schema.ensure_schema` brings an archive of any release up to this one.

:mod:`.schema` lists the migrations (``m001`` to the newest; their names are
recorded in ``_sqlite_migrations`` and never change); the long ones run in
batches (:mod:`.batches`) from modules named for what they do
(:mod:`.fold_snapshots`, :mod:`.pack_spans`, :mod:`.split_bodies`).
"""
