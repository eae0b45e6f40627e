"""msgspec schemas: `X` is what the API returns, `XCreate` what it accepts. Amounts are strings."""
