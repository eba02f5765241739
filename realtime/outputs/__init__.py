"""The live side of outputs: the feed onto `{p}:outputs` and the worker that delivers."""
