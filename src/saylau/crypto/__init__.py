"""saylau.crypto."""
