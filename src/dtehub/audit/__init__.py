"""The audit log: every change to a company's data, who made it and through which token."""
