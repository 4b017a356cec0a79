"""Domain logic: pure, no transport, web or database."""
