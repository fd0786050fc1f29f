"""X12 837P / 837I out: build, validate (pyx12), parse back, and the sink that writes files."""
