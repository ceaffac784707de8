"""What the product itself keeps on disk: the web app's snapshot of what it read (never the audited stores)."""
