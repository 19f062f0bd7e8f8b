"""``python -m wwc_archive.demo_site``: serve the demo site until Ctrl-C."""

import argparse

from . import DemoServer, DemoSite


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m wwc_archive.demo_site",
                                     description="Serve the fake Data-Smart City Solutions site.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    parser.add_argument("--articles", type=int, default=12, help="number of articles (default: 12)")
    parser.add_argument("--per-page", type=int, default=5, help="teasers per hub page (default: 5)")
    parser.add_argument("--seed", type=int, default=0, help="content seed (default: 0)")
    parser.add_argument("--no-noise", action="store_true", help="serve byte-identical pages")
    args = parser.parse_args(argv)
    site = DemoSite(n_articles=args.articles, per_page=args.per_page, seed=args.seed,
                    noise=not args.no_noise)
    server = DemoServer(site, port=args.port).start()
    print(f"Demo site at {server.url}{site.hub_path} (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
