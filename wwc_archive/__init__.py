"""wwc-archive: a nightly, queryable history of the What Works Cities pages."""
