"""The pipeline stages composed: analyse, resolve, check, compile."""
