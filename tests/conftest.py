"""Loaded for every test: being here puts tests/ on sys.path, so ``shared_data`` imports by name."""
