"""saylau.crypto.hazmat."""
