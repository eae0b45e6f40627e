"""Household income records: a month's income from one source, posted in the household's
book; one baseline (before support) per household and month."""
