"""How the differ and link extraction scale: the time for 4× the words (2× the links) over the time for 1×.

    python bench/scaling.py [--words 5000] [--links 50000] [--repeat 5]

A linear algorithm takes about 4× (2×) as long; a quadratic one 16× (4×). Each
time is the best of ``--repeat`` runs with garbage collection off, the least
noisy measure on a shared machine. The inputs include the differ's worst cases
(one word repeated, a repeated pattern, unrelated texts) and, for the line
diff, one word a line. Prints one line per case with its ratio and the bound
it should stay under (8 and 3: room for noise on runs of milliseconds).
"""

import argparse
import gc
import random
import time

from wwc_archive.archive.changes.diff import unified_diff, word_diff
from wwc_archive.config import SiteProfile
from wwc_archive.crawler.extract import extract_page

WORDS = [f"w{i}" for i in range(3000)] + ["the", "of", "and", "data", "city"] * 200
DIFF_BOUND = 8
LINKS_BOUND = 3


def prose(n: int, seed: int) -> str:
    """``n`` words in paragraphs of 80."""
    rnd = random.Random(seed)
    words = [rnd.choice(WORDS) for _ in range(n)]
    return "\n\n".join(" ".join(words[k:k + 80]) for k in range(0, n, 80))


def edited(text: str, seed: int, edits: int = 20) -> str:
    rnd = random.Random(seed)
    words = text.split(" ")
    for _ in range(edits):
        k = rnd.randrange(len(words))
        words[k:k + 3] = [rnd.choice(WORDS) for _ in range(rnd.randint(0, 6))]
    return " ".join(words)


CASES = {
    "realistic-edits": lambda n: (prose(n, n), edited(prose(n, n), 1)),
    "one-repeated-word": lambda n: (" ".join(["data"] * n),
                                    " ".join(["data"] * (n // 2) + ["city"] + ["data"] * (n // 2))),
    "repeated-pattern": lambda n: (" ".join(["a b"] * (n // 2)), " ".join(["b a c"] * (n // 3))),
    "unrelated-texts": lambda n: (prose(n, n), prose(n, n + 1)),
}


def seconds(fn, *args, repeat: int) -> float:
    """The best of ``repeat`` runs of ``fn(*args)``, garbage collection off."""
    best = float("inf")
    gc.disable()
    try:
        for _ in range(repeat):
            started = time.perf_counter()
            fn(*args)
            best = min(best, time.perf_counter() - started)
    finally:
        gc.enable()
    return best


def one_word_a_line(pair: tuple[str, str]) -> tuple[str, str]:
    return tuple(text.replace(" ", "\n") for text in pair)


def links_page(count: int) -> str:
    """A page linking ``count`` URLs, each twice (the de-duplication's work)."""
    return "<main>" + "".join(f'<a href="/p/{i}">x</a><a href="/p/{i}">y</a>' for i in range(count)) + "</main>"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, default=5000, help="the smaller texts' words (default 5000)")
    parser.add_argument("--links", type=int, default=50_000, help="the smaller page's links (default 50000)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each, the best kept (default 5)")
    args = parser.parse_args()
    print(f"{'differ':<6} {'case':<20} {'1×':>9} {'4×':>9} {'ratio':>6}  bound")
    for name, differ in (("word", word_diff), ("line", unified_diff)):
        for case, make in CASES.items():
            small, large = make(args.words), make(4 * args.words)
            if differ is unified_diff:
                small, large = one_word_a_line(small), one_word_a_line(large)
            one, four = (seconds(differ, *pair, repeat=args.repeat) for pair in (small, large))
            flag = "" if four / one < DIFF_BOUND else "  OVER"
            print(f"{name:<6} {case:<20} {one * 1000:>7.1f}ms {four * 1000:>7.1f}ms {four / one:>6.1f}  "
                  f"< {DIFF_BOUND}{flag}", flush=True)
    extract = lambda html: extract_page(html, "http://127.0.0.1/", SiteProfile()).links  # noqa: E731
    one, two = (seconds(extract, links_page(count), repeat=3) for count in (args.links, 2 * args.links))
    flag = "" if two / one < LINKS_BOUND else "  OVER"
    print(f"links  {'de-duplication (2×)':<20} {one * 1000:>7.1f}ms {two * 1000:>7.1f}ms {two / one:>6.1f}  "
          f"< {LINKS_BOUND}{flag}")


if __name__ == "__main__":
    main()
