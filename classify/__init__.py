"""classify: French text classification (topics and sentiment) with TF-IDF and linear models."""

__version__ = "0.1.0"
__all__ = ["TextClassifier", "__version__"]


def __getattr__(name):
    # imported on first use: `TextClassifier` is built on scikit-learn, which loading a model and predicting
    # never import (a second of start-up)
    if name == "TextClassifier":
        from classify.estimator import TextClassifier

        return TextClassifier
    raise AttributeError(f"module 'classify' has no attribute {name!r}")
