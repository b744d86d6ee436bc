"""The project's own tools (benchmarks, data card, evaluation on real text): run from the project folder as
`python -m tools.NAME`, by the Makefile. Not part of the installed package."""
