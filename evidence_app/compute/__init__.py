"""Exact partitions of the reconciliation, run in this process or on a Dask cluster."""
