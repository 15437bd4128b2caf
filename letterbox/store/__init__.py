"""The git-backed store: the repository (the only writer) and the one loader."""
