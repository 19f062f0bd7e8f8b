"""``serve`` is fair between clients: one address cannot hold every SQL thread.

Two clients, told apart by the remote address in the ASGI scope (as uvicorn
sets it), share one in-process Datasette app: a greedy one opens a dozen
queries that run until the SQL time limit, the other asks for a page.
"""

import asyncio
import time
from urllib.parse import quote

import httpx
import pytest

from tests.helpers import story, write_run_to
from wwc_archive.reports.datasette import DATABASE_NAME
from wwc_archive.reports.datasette.app import archive_datasette, load_metadata
from wwc_archive.reports.datasette.fairness import PLUGIN_NAME, client_limit, is_expensive

URL = "https://example.org/news/a-story"
#: A query that counts until Datasette's time limit stops it.
SLOW = f"/{DATABASE_NAME}.json?sql=" + quote("with recursive c(x) as (select 1 union all select x + 1 from c) "
                                             "select count(*) from c")
LIMIT_MS = 3000


@pytest.fixture(scope="module")
def archive_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("fairness") / "archive.db")
    write_run_to(path, story(URL))
    return path


def clients(ds, *addresses):
    app = ds.app()  # one app, as uvicorn serves it
    return [httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)),
                              base_url="http://localhost", timeout=60) for address in addresses]


async def timed(client, path):
    response = await client.get(path)
    return response, time.monotonic()


def test_a_client_holding_its_share_gets_429s_and_another_client_is_answered_meanwhile(archive_path):
    async def run():
        ds = archive_datasette(archive_path, settings={"sql_time_limit_ms": LIMIT_MS})
        greedy, other = clients(ds, "10.0.0.1", "10.0.0.2")
        async with greedy, other:
            assert (await other.get("/-/wwc/snapshot/1")).status_code == 200  # startup, outside the race
            flood = [asyncio.create_task(timed(greedy, SLOW)) for _ in range(12)]
            await asyncio.sleep(0.5)  # every greedy request has been answered 429 or holds a thread
            page = await timed(other, "/-/wwc/snapshot/1")
            static = await timed(greedy, "/-/static/app.css")  # assets are never counted
            return await asyncio.gather(*flood), page, static

    flood, (page, page_done), (static, static_done) = asyncio.run(run())
    refused = [(r, done) for r, done in flood if r.status_code == 429]
    ran = [(r, done) for r, done in flood if r.status_code != 429]
    assert all("SQL query took too long" in r.json()["error"] for r, _ in ran)
    first_slow_end = min(done for _, done in ran)
    assert page.status_code == 200 and page_done < first_slow_end  # the other client did not wait for a thread
    assert len(ran) == 4 and len(refused) == 8  # the default share: 4 of the 8 SQL threads
    assert max(done for _, done in refused) < first_slow_end  # refused at once, not queued
    for response, _ in refused:
        assert response.headers["retry-after"] == str(LIMIT_MS // 1000)
        assert "at most 4 pages or queries at a time" in response.json()["error"]
    assert static.status_code == 200 and static_done < first_slow_end


def test_the_share_is_configurable_and_never_all_the_threads():
    class Fake:
        def __init__(self, config, threads):
            self.config, self.threads = config, threads

        def plugin_config(self, name):
            return self.config if name == PLUGIN_NAME else None

        def setting(self, name):
            return {"num_sql_threads": self.threads}[name]

    assert client_limit(Fake(None, 8)) == 4
    assert client_limit(Fake({"max_client_requests": 2}, 8)) == 2
    assert client_limit(Fake({"max_client_requests": 6}, 3)) == 2  # one thread always left to others
    assert client_limit(Fake({"max_client_requests": 6}, 1)) == 1


@pytest.mark.parametrize("path, expensive", [
    ("/", True), (f"/{DATABASE_NAME}", True), (f"/{DATABASE_NAME}/snapshots", True),
    (f"/{DATABASE_NAME}?sql=select+1", True), (f"/{DATABASE_NAME}/latest_changes.json", True),
    ("/-/wwc/diff/1/2", True), ("/-/wwc/changes.atom", True), ("/-/wwc", True),
    ("/-/static/app.css", False), ("/-/static-plugins/wwc_archive/x.css", False), ("/-/versions.json", False),
    ("/favicon.ico", False), ("/-/wwcx", False),
])
def test_which_requests_are_counted(path, expensive):
    assert is_expensive(path) is expensive


def test_a_share_of_one_from_the_metadata(archive_path):
    async def run():
        metadata = load_metadata()
        metadata["plugins"] = {PLUGIN_NAME: {"max_client_requests": 1}}
        ds = archive_datasette(archive_path, metadata=metadata, settings={"sql_time_limit_ms": 1000})
        greedy, other = clients(ds, "10.0.0.1", "10.0.0.2")
        async with greedy, other:
            slow = asyncio.create_task(greedy.get(SLOW))
            await asyncio.sleep(0.3)
            second, page = await greedy.get("/-/wwc/snapshot/1.json"), await other.get("/-/wwc/snapshot/1.json")
            return (await slow).status_code, second, page.status_code

    slow, second, page = asyncio.run(run())
    assert (slow, second.status_code, page) == (400, 429, 200)
    assert second.headers["retry-after"] == "1"
