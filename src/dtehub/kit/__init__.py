"""Shared toolkit: RUTs, money, dates, pagination, secrets and the hardened XML parser."""
