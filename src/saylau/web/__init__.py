"""saylau.web."""
