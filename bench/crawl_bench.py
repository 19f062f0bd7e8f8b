"""Crawl benchmark: a 2,000-article local site, wwc-archive against a bare Scrapy spider.

Prints, as medians over --repeat rounds (each round: bare spider, first crawl,
two unchanged re-crawls, on a fresh archive):
  - first crawl time / bare spider time           (target <= 1.3)
  - unchanged re-crawl time / bare spider time
  - archive growth on the first re-crawl (it stores each page's conditional request headers once)
    and per unchanged re-crawl after it, bytes per page (target < 300)

The bare spider fetches the same pages with the same settings (politeness
delays off, 16 concurrent requests, robots.txt on) and stores nothing.

    python bench/crawl_bench.py [--articles 2000] [--repeat 3]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from sizes import used_bytes
from wwc_archive.demo_site import DemoServer, DemoSite

SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "LOG_LEVEL": "WARNING",
}

BARE_SPIDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bare_spider.py")


def timed(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"benchmark command failed: {' '.join(command)}\n{result.stderr}")
    return elapsed, result.stdout


def crawl_command(db: str, start_url: str, requisites: bool = False) -> list[str]:
    """A crawl of the pages (requisites off: the bare spider fetches none), or with their requisites."""
    command = [sys.executable, "-m", "wwc_archive", "crawl", "--db", db, "--start-url", start_url]
    for name, value in {**SETTINGS, "WWC_REQUISITES": str(requisites)}.items():
        command += ["-s", f"{name}={value}"]
    return command


def one_round(start_url: str, workdir: str, round_no: int) -> dict:
    bare_time, bare_out = timed([sys.executable, BARE_SPIDER, start_url,
                                 *(f"{k}={v}" for k, v in SETTINGS.items())])
    db = os.path.join(workdir, f"bench-{round_no}.db")
    first_time, first_out = timed(crawl_command(db, start_url))
    size_after_first = used_bytes(db)
    again_time, again_out = timed(crawl_command(db, start_url))
    size_after_second = used_bytes(db)
    timed(crawl_command(db, start_url))  # a third: growth once the conditional requests' headers are known
    growth = used_bytes(db) - size_after_second
    # Requisites, separately: a first crawl with them on a fresh archive, then an unchanged re-crawl
    # (within requisites_max_age: none is asked again).
    with_db = os.path.join(workdir, f"bench-requisites-{round_no}.db")
    requisites_time, _ = timed(crawl_command(with_db, start_url, requisites=True))
    requisites_bytes = used_bytes(with_db)
    requisites_again, _ = timed(crawl_command(with_db, start_url, requisites=True))
    requisites_growth = used_bytes(with_db) - requisites_bytes
    checked = int(again_out.split(" pages checked")[0].rsplit(" ", 1)[1])
    bare_pages = int(bare_out.split()[-1])
    if bare_pages < 0.9 * checked:
        sys.exit(f"the bare spider fetched {bare_pages} pages, the crawl {checked}: the baseline is broken")
    return {
        "bare_s": bare_time, "bare_pages": bare_pages, "first_growth_per_page": (size_after_second - size_after_first) / checked,
        "first_s": first_time, "first_summary": first_out.strip(),
        "again_s": again_time, "again_summary": again_out.strip(),
        "pages": checked, "growth_per_page": growth / checked,
        "first_ratio": first_time / bare_time, "again_ratio": again_time / bare_time,
        "archive_bytes": size_after_first,
        "requisites_s": requisites_time, "requisites_ratio": requisites_time / first_time,
        "requisites_bytes": requisites_bytes - size_after_first, "requisites_again_s": requisites_again,
        "requisites_growth": requisites_growth,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    site = DemoSite(n_articles=args.articles, n_people=40, per_page=50, seed=1, special_pages=False)
    rounds = []
    with DemoServer(site) as server, tempfile.TemporaryDirectory() as workdir:
        start_url = server.url + site.hub_path
        for round_no in range(args.repeat):
            result = one_round(start_url, workdir, round_no)
            rounds.append(result)
            print(f"round {round_no + 1}: bare {result['bare_s']:.1f}s ({result['bare_pages']} pages), "
                  f"first crawl {result['first_s']:.1f}s, re-crawl {result['again_s']:.1f}s, "
                  f"growth {result['first_growth_per_page']:.0f} then {result['growth_per_page']:.0f} B/page",
                  flush=True)
        print(f"  {rounds[-1]['first_summary']}\n  {rounds[-1]['again_summary']}")

    def median(key):
        return statistics.median(r[key] for r in rounds)

    print(f"\nsite: {args.articles} articles, {rounds[-1]['pages']} pages per crawl; "
          f"archive after first crawl: {rounds[-1]['archive_bytes'] / 1e6:.1f} MB")
    print(f"first crawl / bare spider:        {median('first_ratio'):.2f}  (target <= 1.3)")
    print(f"unchanged re-crawl / bare spider: {median('again_ratio'):.2f}")
    print(f"growth on the first re-crawl:     {median('first_growth_per_page'):.0f} bytes/page "
          "(it stores each page's conditional request headers once)")
    print(f"growth per unchanged re-crawl:    {median('growth_per_page'):.0f} bytes/page  (target < 300)")
    print(f"(medians of {len(rounds)} rounds; bare spider median {median('bare_s'):.1f}s)")
    print(f"with requisites: first crawl {median('requisites_s'):.1f}s ({median('requisites_ratio'):.2f}x the "
          f"pages-only crawl), +{median('requisites_bytes') / 1e6:.2f} MB; unchanged re-crawl "
          f"{median('requisites_again_s'):.1f}s, growth {median('requisites_growth') / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
