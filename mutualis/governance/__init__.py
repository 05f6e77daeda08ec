"""Governance: the operator's bodies and the mandates of the people who sit on them."""
