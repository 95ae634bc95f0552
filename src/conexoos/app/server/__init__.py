"""The seed-001 server modules of the Conexoos product."""
