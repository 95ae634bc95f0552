"""The plugin's rules."""
