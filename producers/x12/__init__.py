"""X12 adapters: 835 remittances and 277CA claim acknowledgements in (`rcm produce x12`)."""
