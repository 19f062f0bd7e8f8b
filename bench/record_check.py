"""Does a change to the crawler change what it hands to storage? A demo-site crawl replayed from a cache.

    python bench/record_check.py CACHE_DIR OUT.jsonl [--articles 120]

The first run crawls a bundled demo site (special pages, documents and noise
on) and keeps every response in Scrapy's HTTP cache in CACHE_DIR. Every run,
the first included, replays that cache (no server, so the bytes are the
same each time) through the spider, the pickled hand-off to the storage
process and the storage process's extraction of leaf pages, and writes each
record the archive writer would get as one JSON line (fetch time blanked,
bodies as SHA-256), sorted. Run it at two commits with the same CACHE_DIR and
compare the files: ``cmp before.jsonl after.jsonl``. ``--archive DB`` also replays
it through ``wwc-archive crawl`` (the storage process and its writer included) into
the new archive DB and writes what that stored, page by page, to OUT.jsonl.archive.
"""

import argparse
import hashlib
import json
import os
import pickle
import subprocess
import sqlite3
import sys
from dataclasses import asdict

CACHE_SETTINGS = {
    "HTTPCACHE_ENABLED": True,
    "HTTPCACHE_POLICY": "scrapy.extensions.httpcache.DummyPolicy",
    "HTTPCACHE_EXPIRATION_SECS": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "LOG_LEVEL": "ERROR",
}


class CapturePipeline:
    """Each item as the storage process writes it: pickled as the hand-off does, then extracted."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.records = []

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item, spider=None):
        from wwc_archive.crawler.storage import extracted_record
        profiles = {name: program.profile for name, program in self.crawler.spider.programs.items()}
        self.records.append(extracted_record(pickle.loads(pickle.dumps(item)), profiles))
        return item

    def close_spider(self, spider=None):
        lines = sorted(json.dumps(canonical(record), sort_keys=True) for record in self.records)
        with open(self.crawler.settings.get("CHECK_OUTPUT"), "w", encoding="utf-8") as out:
            out.writelines(line + "\n" for line in lines)


def canonical(record) -> dict:
    fields = asdict(record)
    fields["fetched_at"] = None
    if fields["body"] is not None:
        fields["body"] = hashlib.sha256(fields["body"]).hexdigest()
    return fields


def crawl(start_url: str, cache_dir: str, output: str, replay: bool) -> None:
    """One crawl in this process (Twisted's reactor runs once per process)."""
    from scrapy.crawler import CrawlerProcess
    from wwc_archive.config import programs_for_start_urls
    from wwc_archive.crawler.settings import crawl_settings
    from wwc_archive.crawler.spiders.program import ProgramSpider

    settings = crawl_settings({})
    settings.update(CACHE_SETTINGS)
    settings.update({"HTTPCACHE_DIR": os.path.abspath(cache_dir), "HTTPCACHE_IGNORE_MISSING": replay,
                     "ITEM_PIPELINES": {CapturePipeline: 300}, "CHECK_OUTPUT": output})
    process = CrawlerProcess(settings)
    process.crawl(ProgramSpider, programs=programs_for_start_urls([start_url]), known_pages=())
    process.start()


#: Per page, what a crawl stored: its last snapshot's answer, body digest and content fingerprint.
STORED = """
select p.url, p.role, p.state, p.title, s.http_status, s.outcome, s.error, s.final_url, hex(b.sha256),
       b.size, b.content_type, c.fingerprint, c.title, c.author, c.published, ch.change, ch.summary
from pages p join snapshots s on s.id = p.last_snapshot left join bodies b on b.id = s.body_id
left join contents c on c.id = s.content_id left join changes ch on ch.new_snapshot = s.id
order by p.url
"""


def archive_crawl(start_url: str, cache_dir: str, db: str, output: str) -> None:
    """``wwc-archive crawl`` replayed from the cache into a new archive; its pages, listing items and links."""
    command = [sys.executable, "-m", "wwc_archive", "crawl", "--db", db, "--start-url", start_url]
    settings = {**CACHE_SETTINGS, "HTTPCACHE_DIR": os.path.abspath(cache_dir), "HTTPCACHE_IGNORE_MISSING": True}
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    with sqlite3.connect(db) as conn, open(output, "w", encoding="utf-8") as out:
        for row in conn.execute(STORED):
            out.write(json.dumps(row) + "\n")
        for row in sorted(conn.execute("select url, title, published, byline, summary from listing_items")):
            out.write(json.dumps(row) + "\n")
        for row in sorted(conn.execute("select url from link_urls")):
            out.write(json.dumps(row) + "\n")


def run_crawl(start_url: str, cache_dir: str, output: str, replay: bool) -> None:
    command = [sys.executable, __file__, "--crawl", start_url, cache_dir, output] + (["--replay"] if replay else [])
    subprocess.run(command, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cache_dir")
    parser.add_argument("output")
    parser.add_argument("--articles", type=int, default=120)
    parser.add_argument("--archive", metavar="DB", help="also crawl into this new archive and dump it")
    parser.add_argument("--crawl", metavar="START_URL", help=argparse.SUPPRESS)
    parser.add_argument("--replay", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.crawl:
        return crawl(args.crawl, args.cache_dir, args.output, args.replay)
    url_file = os.path.join(args.cache_dir, "start_url")
    if not os.path.exists(url_file):
        from wwc_archive.demo_site import DemoServer, DemoSite
        site = DemoSite(n_articles=args.articles, n_people=8, per_page=10, seed=7)
        os.makedirs(args.cache_dir, exist_ok=True)
        with DemoServer(site) as server:
            start_url = server.url + site.hub_path
            run_crawl(start_url, args.cache_dir, os.devnull, replay=False)
        with open(url_file, "w") as out:
            out.write(start_url)
    with open(url_file) as saved:
        start_url = saved.read()
    run_crawl(start_url, args.cache_dir, args.output, replay=True)
    with open(args.output, encoding="utf-8") as written:
        records = [json.loads(line) for line in written]
    roles = {}
    for record in records:
        roles[record["role"]] = roles.get(record["role"], 0) + 1
    print(f"{len(records)} records ({', '.join(f'{n} {role}' for role, n in sorted(roles.items()))}), "
          f"{sum(1 for r in records if r['extracted'])} with content; "
          f"sha256 {hashlib.sha256(open(args.output, 'rb').read()).hexdigest()[:16]}")
    if args.archive:
        archive_crawl(start_url, args.cache_dir, args.archive, args.output + ".archive")
        with open(args.output + ".archive", "rb") as dumped:
            print(f"archive: {sum(1 for _ in dumped)} rows; sha256 "
                  f"{hashlib.sha256(open(args.output + '.archive', 'rb').read()).hexdigest()[:16]}")


if __name__ == "__main__":
    main()
