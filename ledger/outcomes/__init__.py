"""Outcome reports: per training, per household, per programme, award and province; read from
the household books (the journal is the one record of herds and income)."""
