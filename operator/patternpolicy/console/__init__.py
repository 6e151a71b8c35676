"""What the command line needs around its verbs: exit codes, error lines, output formats, progress."""
