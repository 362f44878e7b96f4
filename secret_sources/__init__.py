"""Secret values, and where they are read from: the environment, Secret Manager, a mounted file."""
