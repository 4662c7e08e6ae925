"""dtehub: a self-hostable home for Chilean electronic tax documents (DTE)."""

__version__ = "0.1.0"
