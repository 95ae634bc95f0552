"""The plugin's HTTP side."""
