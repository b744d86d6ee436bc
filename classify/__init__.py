"""classify: French text classification (topics and sentiment) with TF-IDF and linear models."""

__version__ = "0.1.0"
