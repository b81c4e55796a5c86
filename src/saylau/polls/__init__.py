"""saylau.polls."""
