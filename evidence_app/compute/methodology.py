"""The pack's sentence on partitioning: derived from the plan that ran, never written as a default."""

from __future__ import annotations

from evidence_app.compute.plan import PartitionPlan


def partitioning_sentence(plan: PartitionPlan | None) -> str:
    """What the methodology states: how many partitions, how records were routed, and that no number changes."""
    if plan is None or plan.count <= 1:
        return "Reconciliation ran in one partition: every record of the period was matched in a single pass."
    used = sum(1 for t in plan.tenants if t)
    merged = (f"{plan.merged_groups} group{'s' if plan.merged_groups != 1 else ''} of "
              f"{plan.tenants_in_merged_groups} tenants sharing request ids were kept together"
              if plan.merged_groups else "no request id is shared across tenants")
    return (f"Reconciliation ran in {plan.count} partitions ({used} holding records, {plan.groups} tenant groups, "
            f"{sum(plan.rows):,} records routed): each operation, audit row and failure event was routed by its "
            f"tenant, tenants sharing a request id or failure id going to the same partition ({merged}), so every "
            "candidate pair, failure link and replay lies within one partition; partitioning changes no number: "
            "the matching, states, coverage, exceptions and replay states are those of a single pass.")
