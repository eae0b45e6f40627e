"""Reconciliation: bank statements, matching, cash counts and the period close."""
