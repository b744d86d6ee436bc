"""French text handling: resources (data) and small pure normalisation functions."""
