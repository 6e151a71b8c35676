"""Rules to engine policy objects: pure builders."""
