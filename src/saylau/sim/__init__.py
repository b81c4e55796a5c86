"""saylau.sim."""
