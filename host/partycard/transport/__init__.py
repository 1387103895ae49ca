"""Transport layer: byte streams to a reader. Must not know frames, messages or cards."""
