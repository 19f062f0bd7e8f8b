"""Exit statuses shared by every ``wwc-archive`` command (the scheduler reads ``crawl``'s)."""

EXIT_OK = 0
EXIT_INTERRUPTED = 1  # the crawl ran but its run is not complete
EXIT_USAGE = 2  # bad flags, config or archive file (click's own usage errors use 2 as well)
EXIT_BUSY = 3  # another crawl holds the archive
EXIT_PROBLEMS = 1  # `check` found problems in the archive
EXIT_UNREACHABLE = 4  # the crawl completed, but every fetch failed: the site could not be reached
