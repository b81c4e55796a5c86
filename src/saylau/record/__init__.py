"""saylau.record."""
