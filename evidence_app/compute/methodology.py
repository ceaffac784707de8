"""The pack's sentence on partitioning: derived from the plan that ran, never written as a default."""

from __future__ import annotations

from evidence_app.compute.plan import PartitionPlan


def partitioning_sentence(plan: PartitionPlan | None) -> str:
    """What the methodology states: how many partitions, how records were routed, and that no number changes."""
    if plan is None or plan.count <= 1:
        return "Reconciliation ran in one partition: every record of the period was matched in a single pass."
    used = sum(1 for t in plan.tenants if t)
    merged = (f"{_n(plan.merged_groups, 'group')} of tenants sharing request ids, "
              f"{_n(plan.tenants_in_merged_groups, 'tenant')} in all, kept together" if plan.merged_groups
              else "no request id is shared across tenants")
    return (f"Reconciliation ran in {plan.count} partitions ({used} of them holding records; "
            f"{_n(sum(plan.rows), 'record')} routed). Each operation, audit row and failure event was routed by its "
            f"tenant, and tenants sharing a request id or failure id went to the same partition ({merged}), so every "
            f"candidate pair, failure link and replay lies within one partition.{_split(plan)} Partitioning changes "
            "no number: "
            "the matching, states, coverage, exceptions and replay states are those of a single pass.")


def _split(plan: PartitionPlan) -> str:
    """The sentence on tenants split into pieces, when any was."""
    if not plan.split_tenants:
        return ""
    return (f" {_n(plan.split_tenants, 'tenant')} whose group held more records than one partition's share "
            f"{'was' if plan.split_tenants == 1 else 'were'} split into pieces by a hash of the canonical target "
            "(a key match, a failure link and a duplicate need equal targets; records joined by a request id "
            "stay together), each partition keeping only its own pieces as the rows arrive.")


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
