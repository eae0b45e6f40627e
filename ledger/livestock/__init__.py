"""Follow-up visits: livestock counted per species, its movements posted in the household's
book, and the difference from the book recorded as an adjustment with its reason."""
