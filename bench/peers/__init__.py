"""Peers: other systems' position accounting, driven with riskguard's fills for comparison."""
