"""Reports for governance: monthly uptime per product and objective.

`months` (calendar months in a time zone) → `period` (the minutes of a month that count for a
product) → `uptime` (the report, from the store's counts) → `render` (JSON, CSV, Markdown, HTML);
`reading` reads one month's report from a store, read-only.
"""
