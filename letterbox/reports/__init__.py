"""Reports: read models over folded letters (show/list views, deadline table, monthly
supervision report, analysis, near-duplicates, reopen list)."""
