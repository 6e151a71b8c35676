"""Finding the kinds a pattern governs among those a cluster serves."""
