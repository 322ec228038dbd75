"""Reports for governance: monthly uptime per product and objective."""
