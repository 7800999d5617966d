"""Billing: pure pricing (integer quota from Usage and ratios), quota reservation and settlement, usage logs."""
