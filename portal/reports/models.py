"""Statistics are computed from the register; no tables of their own."""
