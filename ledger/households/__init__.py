"""Households served by the programme, identified by case code, each with a tracking book of
its own (memorandum accounts for its cash, livestock, grants received and income)."""
