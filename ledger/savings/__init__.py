"""Savings groups: pure posting rules (`rules`) and the service that records them (`service`)."""
