"""Results: the ranking from sealed scores, the city's decisions, the published documents and their PDFs."""
