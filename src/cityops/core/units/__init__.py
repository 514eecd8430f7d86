"""Administrative units: a tree of any depth stored as data, its loaders and point lookup."""
