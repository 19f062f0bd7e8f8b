"""Scope by origin (scheme, host and port): Scrapy's offsite check compares host names only."""

from scrapy.exceptions import IgnoreRequest

from wwc_archive.crawler.urls import in_scope


class OutOfScope(IgnoreRequest):
    pass


class OriginScopeMiddleware:
    """Drops every request, redirects included, outside the spider's origins.

    The spider filters the links it follows; this is the backstop that also
    catches redirect targets, before robots.txt is asked for their origin.
    """

    def process_request(self, request, spider=None):
        origins = request.meta.get("origins")
        if origins is not None and not in_scope(request.url, origins):
            raise OutOfScope(f"out of scope: {request.url}")
        return None
