"""Definition objects: what datasources/, dashboards/ and alerts/ modules build."""
