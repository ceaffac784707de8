"""evidence.toml → frozen, typed settings: ``settings`` reads the file, ``monitoring`` its [remediation] and [check]."""
