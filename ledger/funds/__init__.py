"""Donor funds: awards and their budget lines, fund receipts, currency exchanges, spending
against a budget line, and budget against actual in the award's currency."""
