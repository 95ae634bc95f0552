"""Models: ``persistent`` (database entities) and ``forms`` (validated user input), as in seed 001."""
