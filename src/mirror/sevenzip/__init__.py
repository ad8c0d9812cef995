"""sevenzip."""
