"""saylau.store."""
