"""saylau.forensics."""
