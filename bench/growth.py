"""The growth benchmark: real nightly crawls of a changing sample site, and how the archive grows.

    python bench/growth.py [--nights 120] [--articles 200] [--out PATH] [--seed 0]

Serves the bundled sample site on 127.0.0.1 (200 articles, 15 teasers a
"Show more" page) and crawls it once a night with ``wwc-archive crawl`` in a
child process (politeness delays off, 16 concurrent requests). Before each
night but the first, a new article is published every third night and three
sentences of random articles are edited. Prints:

- the archive's size every 10 nights;
- its growth per night over the last 30 nights: median and mean, and between
  compacted copies (its crawls run seconds apart, so the monthly compaction of
  ``crawl`` never runs in it);
- the bytes stored a night by table and index, and what the bodies stored are
  made of (see ``body_floor.py``);
- the bytes the site served in the last night, for scale, and the first and
  last crawl times.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

from wwc_archive.demo_site import DemoServer, DemoSite

import body_floor
import sizes
from decade import PUBLISH_EVERY, EDITS_PER_NIGHT, edit_sentence, publish

FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS=16",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "RETRY_TIMES=1", "-s", "DOWNLOAD_TIMEOUT=3",
        "-s", "LOG_LEVEL=WARNING"]
LAST_NIGHTS = 30


def crawl(db: str, start_url: str) -> float:
    """Seconds one ``wwc-archive crawl`` took."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "wwc_archive", "crawl", "--db", db, "--start-url", start_url,
                             *FAST], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"error: the crawl exited with status {result.returncode}:\n{result.stderr.strip()[-2000:]}")
    return time.perf_counter() - start


def served_bytes(site: DemoSite, server: DemoServer) -> tuple[int, int, int]:
    """(HTML bytes, all bytes, requests) the site answered in the crawl just made.

    The requests are replayed on the unchanged site (same paths and
    validators), so 304s count as empty and noise aside the bodies are the same.
    """
    html = total = count = 0
    for request in server.requests:
        response = site.handle(request.method, request.path, dict(request.headers))
        size = len(response.body)
        total += size
        count += 1
        if any(name.lower() == "content-type" and "html" in value for name, value in response.headers):
            html += size
    return html, total, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nights", type=int, default=120, help="nightly crawls (default 120)")
    parser.add_argument("--articles", type=int, default=200, help="articles on the site at the start (default 200)")
    parser.add_argument("--out", help="keep the archive here (must not exist); default: a temporary file")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args()
    if args.nights < 2 or args.articles < 1:
        sys.exit("error: --nights must be at least 2 and --articles at least 1")
    if args.out and os.path.exists(args.out):
        sys.exit(f"error: {args.out} exists; remove it or choose another --out")
    with tempfile.TemporaryDirectory() as workdir:
        run(args, args.out or os.path.join(workdir, "growth.db"))


def run(args, db: str) -> None:
    site = DemoSite(n_articles=args.articles, n_people=20, per_page=15, seed=args.seed, special_pages=False)
    rng = random.Random(args.seed + 30)
    sizes_after, crawl_times, payloads, compacted = [], [], {}, {}
    with DemoServer(site) as server:
        start_url = server.url + site.hub_path
        print(f"{'night':>5}  {'archive':>10}  {'growth/night since last line':>29}  {'crawl':>7}", flush=True)
        for night in range(args.nights):
            if night:
                if night % PUBLISH_EVERY == 0:
                    publish(site, rng)
                for _ in range(EDITS_PER_NIGHT):
                    edit_sentence(site, rng)
            server.requests.clear()
            crawl_times.append(crawl(db, start_url))
            sizes_after.append(sizes.used_bytes(db))
            if night + 1 in (args.nights - LAST_NIGHTS, args.nights):
                payloads[night + 1] = sizes.payload_by_part(db)
                compacted[night + 1] = sizes.compacted_bytes(db)
            if (night + 1) % 10 == 0 or night + 1 == args.nights:
                previous = sizes_after[-11] if len(sizes_after) > 10 else sizes_after[0]
                nights = min(10, len(sizes_after) - 1) or 1
                print(f"{night + 1:>5}  {sizes.megabytes(sizes_after[-1]):>10}  "
                      f"{(sizes_after[-1] - previous) / nights / 1e3:>26,.1f} kB  {crawl_times[-1]:>6.1f}s", flush=True)
        html, total, requests = served_bytes(site, server)
    growth = [after - before for before, after in zip(sizes_after, sizes_after[1:])][-LAST_NIGHTS:]
    print(f"\n{args.nights} nights, {len(site.published())} articles at the end")
    print(f"archive after the first night: {sizes.megabytes(sizes_after[0])}; "
          f"after the last: {sizes.megabytes(sizes_after[-1])}")
    print(f"growth per night over the last {len(growth)} nights: median {statistics.median(growth) / 1e3:,.1f} kB, "
          f"mean {statistics.mean(growth) / 1e3:,.1f} kB")
    if len(compacted) == 2:
        before, after = compacted.values()
        print(f"growth per night over the last {LAST_NIGHTS} nights, compacted before and after as crawl does "
              f"monthly: {(after - before) / LAST_NIGHTS / 1e3:,.1f} kB")
    if len(payloads) == 2:
        before, after = payloads.values()
        nights = LAST_NIGHTS
        parts = sorted(((after[name] - before.get(name, 0), name) for name in after), reverse=True)
        print(f"stored bytes a night over the last {nights} nights, by table or index (no page slack): " + ", ".join(
            f"{name} {grown / nights / 1e3:,.2f} kB" for grown, name in parts if grown > 0))
    print(body_floor.summary(db, LAST_NIGHTS))
    print(f"the site served in the last night: {requests} requests, {sizes.megabytes(html)} of HTML "
          f"({sizes.megabytes(total)} in all; 304s are empty)")
    print(f"crawl time: first night {crawl_times[0]:.1f} s, last night {crawl_times[-1]:.1f} s")


if __name__ == "__main__":
    main()
