"""saylau.election."""
