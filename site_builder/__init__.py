"""The public board: select → redact → render → build, each stage a plain function."""
