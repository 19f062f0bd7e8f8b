"""A facet by calendar month of an ISO 8601 date column (``{"month": "fetched_at"}``).

Choosing a month filters with Datasette's own ``COLUMN__startswith=YYYY-MM``. The
column comes from the URL (``?_facet_month=``): only a column of the query is
faceted, quoted by sqlite-utils.
"""

from datasette.database import QueryInterrupted
from datasette.facets import Facet
from datasette.utils import path_with_added_args, path_with_removed_args
from sqlite_utils.db import quote_identifier


class MonthFacet(Facet):
    type = "month"

    async def facet_results(self):
        results, timed_out = [], []
        args = dict(self.get_querystring_pairs())
        size = self.get_facet_size()
        columns = None
        for source_and_config in self.get_configs():
            config, source = source_and_config["config"], source_and_config["source"]
            column = config.get("column") or config["simple"]
            columns = columns if columns is not None else await self.get_columns(self.sql, self.params)
            if not isinstance(column, str) or column not in columns:
                continue
            quoted = quote_identifier(column)
            sql = (
                f"select substr({quoted}, 1, 7) as value, count(*) as count "
                f"from ({self.sql}) where {quoted} glob '[0-9][0-9][0-9][0-9]-[0-9][0-9]*' "
                f"group by value order by value desc limit {size + 1}"
            )
            try:
                rows = await self.ds.execute(self.database, sql, self.params, truncate=False,
                                             custom_time_limit=self.ds.setting("facet_time_limit_ms"))
            except QueryInterrupted:
                timed_out.append(column)
                continue
            key = f"{column}__startswith"
            values = []
            for row in rows.rows[:size]:
                selected = args.get(key) == row["value"]
                toggle = (path_with_removed_args(self.request, {key: row["value"]}) if selected
                          else path_with_added_args(self.request, {key: row["value"]}))
                values.append({"value": row["value"], "label": row["value"], "count": row["count"],
                               "toggle_url": self.ds.absolute_url(self.request, toggle), "selected": selected})
            results.append({
                "name": column,
                "type": self.type,
                "results": values,
                "hideable": source != "metadata",
                "toggle_url": path_with_removed_args(self.request, {"_facet_month": column}),
                "truncated": len(rows.rows) > size,
            })
        return results, timed_out
