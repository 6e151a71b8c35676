"""The Claude analyser: structured tool output, validated, with bounded feedback rounds."""
