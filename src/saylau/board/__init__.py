"""saylau.board."""
