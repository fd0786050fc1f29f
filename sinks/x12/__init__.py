"""X12 837P / 837I out: build, validate (pyx12), and the sink that writes files (read back in the
tests with the one 837 reader, producers.x12.claims837)."""
