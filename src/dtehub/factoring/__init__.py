"""Factoring: can this invoice be financed? What SII's acceptance/claim service says of a document
(:mod:`.acceptance`, stored beside the document) and the cedibility check that puts every source together
(:mod:`.cedibility`; ``GET /v1/getDocumentCedibility``, ``dtehub factoring check``). ``docs/factoring.md``
says what each check means."""
