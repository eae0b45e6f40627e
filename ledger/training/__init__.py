"""Trainings: cost items on a budget line, participants, daily attendance, completion."""
