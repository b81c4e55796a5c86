"""saylau.voting."""
