"""saylau.api."""
