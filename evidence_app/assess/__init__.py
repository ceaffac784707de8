"""Judgements over a reconciliation: headline figures, control verdicts, the auditor's sample, monitoring checks."""
