"""The page's tabs, one module each, each with ``render(ctx)``; only the open one runs."""
