"""The decision policy: the TOML schema, the rules, the message catalogue."""
