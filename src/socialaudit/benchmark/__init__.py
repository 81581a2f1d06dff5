"""Benchmark stage (SPEC section 3): maturity tiers, peer percentiles, the social divide."""
