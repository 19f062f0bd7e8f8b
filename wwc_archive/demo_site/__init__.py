"""A bundled fake Data-Smart City Solutions (Drupal 10) site for demos, tests and benchmarks.

    from wwc_archive.demo_site import DemoSite, DemoServer
    site = DemoSite(n_articles=12)
    with DemoServer(site) as server:
        ...  # crawl server.url + site.hub_path; script edits with site.edit_article(...)
"""

from .content import Article, Person
from .server import DemoServer, RequestRecord
from .site import DemoSite, Response

__all__ = ["Article", "DemoServer", "DemoSite", "Person", "RequestRecord", "Response"]
