"""Payments: money received from a client, split over its documents, settling them once reconciled."""
