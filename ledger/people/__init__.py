"""Personal data: the one place that holds names, phone numbers and exact addresses.

Readable only by admins and by officers whose scope covers the household's province. Every
other part of the ledger, every export, report, log line and error message, identifies a
household by its case code alone.
"""
