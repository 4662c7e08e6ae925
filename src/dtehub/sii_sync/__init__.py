"""Keeping a company's documents current from SII's Registro de Compras y Ventas (RCV).

- :mod:`.periods`: tax periods (``YYYY-MM``) and which ones a sync covers;
- :mod:`.errors`: what a caller of the sync can be told;
- :mod:`.repository`: every query of runs and leases, filtered by company;
- :mod:`.runs`: a run's life (queue, take over, checkpoint, finish) and its lease: one active run per
  company across processes and servers;
- :mod:`.executor`: runs them, in ``dtehub serve``, the CLI or a test, with a heartbeat;
- :mod:`.schemas`, :mod:`.endpoints`: ``POST /v1/syncSii``, ``getSiiSyncRuns``, ``getSiiSyncRun``.
"""
