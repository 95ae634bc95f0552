"""The plugin's server modules, called by the framework after the product's."""
