"""radiant-registry: the catalogue of AI providers and models, kept as reviewed YAML files."""

__version__ = "0.1.0"
