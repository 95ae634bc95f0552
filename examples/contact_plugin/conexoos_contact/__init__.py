"""A sample Conexoos plugin: a "Contact me" form for every public page, laid out like a project."""
